import { type Agent, type IncomingHttpHeaders, request } from 'node:http';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface OnceOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Source address of the connection (any of 127.0.0.0/8 on loopback). */
  localAddress?: string;
  /** A keep-alive agent instead of a connection of its own (e.g. to stay on one worker). */
  agent?: Agent;
}

/** One request on a connection of its own (no keep-alive agent), read to the end. */
export function once(port: number, path: string, opts: OnceOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers ?? {},
        agent: opts.agent ?? false,
        ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface OpenStream {
  status: number;
  headers: IncomingHttpHeaders;
  close(): void;
}

/** A GET on a connection of its own that is not read to the end: its head, and close() to end it. */
export function openStream(port: number, path: string, opts: OnceOptions = {}): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        headers: opts.headers ?? {},
        agent: false,
        ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
      },
      (res) => {
        res.on('error', () => undefined);
        res.resume();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, close: () => req.destroy() });
      },
    );
    req.on('error', reject);
    req.end();
  });
}
