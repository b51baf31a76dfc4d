import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/** Waits until `check()` holds; throws after `ms` (a bound on a wait, never a timing assertion). */
export async function until(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface RawResponse {
  status: number;
  /** Lower-case names; repeated fields joined with ", ". */
  headers: Map<string, string>;
  /** The body: content-length framed, or (no content-length) everything after the head so far. */
  body: string;
}

export const get = (target: string, headers = ''): string =>
  `GET ${target} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`;

/** One raw TCP connection on loopback, and what came back on it, split into responses. */
export class RawConn {
  readonly socket: Socket;
  text = '';
  closed = false;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.text += d.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static async open(port: number): Promise<RawConn> {
    const socket = connect({ port, host: '127.0.0.1' });
    await once(socket, 'connect');
    return new RawConn(socket);
  }

  /**
   * A connection whose next request goes to node:http: a first request (GET /health, which the
   * fast path never takes) answered on it, so the next one is parsed by node:http's parser.
   */
  static async afterAnother(port: number): Promise<RawConn> {
    const c = await RawConn.open(port);
    c.socket.write(get('/health'));
    await until(() => c.responses().length === 1, 5000, 'the first answer');
    c.text = '';
    return c;
  }

  responses(): RawResponse[] {
    const out: RawResponse[] = [];
    let rest = this.text;
    for (;;) {
      const end = rest.indexOf('\r\n\r\n');
      if (end < 0) return out;
      const lines = rest.slice(0, end).split('\r\n');
      const status = Number(lines[0]!.split(' ')[1]);
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        const k = line.slice(0, colon).toLowerCase();
        const v = line.slice(colon + 1).trim();
        const prev = headers.get(k);
        headers.set(k, prev === undefined ? v : `${prev}, ${v}`);
      }
      const length = headers.get('content-length');
      if (length === undefined) {
        out.push({ status, headers, body: rest.slice(end + 4) });
        return out;
      }
      const len = Number(length);
      if (rest.length < end + 4 + len) return out;
      out.push({ status, headers, body: rest.slice(end + 4, end + 4 + len) });
      rest = rest.slice(end + 4 + len);
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}
