/**
 * Idle clients for bench/memory/idle.ts, started with child_process.fork. Each connection is a raw
 * TCP socket speaking the least of its transport's protocol, so the client side stays light:
 *  - ws:   the upgrade request and one masked subscribe text frame; ready on the reply.
 *  - sse:  GET /sse?channel=..; ready on the `subscribed` event.
 *  - poll: GET /poll?channel=..; held by the server, so "ready" means connected and sent
 *          (the parent checks the server's subscriber count).
 * The connections stay open and read (and drop) whatever arrives until the parent disconnects,
 * or the hard deadline passes: the process always ends by itself.
 */
import { createConnection, type Socket } from 'node:net';
import { type MintSpec, mint } from '../auth/mint.js';

export interface ClientsArgs {
  transport: 'ws' | 'sse' | 'poll';
  port: number;
  localAddress: string;
  count: number;
  /** Connection i subscribes to channel `c${(first + i) % channels}`. */
  first: number;
  channels: number;
  /** Connections opened at once. */
  batch: number;
  deadlineMs: number;
  /** Each connection carries a token for user u<first + i> (?token=), minted before any connects. */
  auth?: MintSpec;
  /** Channel names are `${channelPrefix}c<n>` (e.g. `room:` for a namespace). */
  channelPrefix?: string;
  /** After minting, report `minted` and wait for the parent's 'go' before connecting. */
  waitGo?: boolean;
  /**
   * Strings to count in what the connections receive once subscribed (e.g. a probe's join
   * push); the parent asks with the message 'count' and gets `{counts}`, one number per string.
   */
  watch?: string[];
}

export type ClientsReport = { ready: number } | { error: string } | { minted: true } | { counts: number[] };

const args = JSON.parse(process.argv[2] ?? '{}') as ClientsArgs;
const send = (m: ClientsReport): void => {
  if (process.connected) process.send?.(m);
};

const watch = args.watch ?? [];
const counts = watch.map(() => 0);
const keep = Math.max(0, ...watch.map((w) => w.length - 1));

/** Adds the watched strings in `text` to the counts; returns the tail to prepend to the next chunk. */
function countIn(text: string): string {
  for (let k = 0; k < watch.length; k++) {
    const w = watch[k]!;
    for (let at = text.indexOf(w); at >= 0; at = text.indexOf(w, at + w.length)) counts[k]!++;
  }
  return keep === 0 ? '' : text.slice(-keep);
}

/** A client text frame: FIN + text, masked with the key 0 (RFC 6455 5.3 allows any key). */
function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error('subscribe frame too long for this bench');
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

let tokens: string[] = [];

function request(i: number): Buffer {
  const channel = `${args.channelPrefix ?? ''}c${(args.first + i) % args.channels}`;
  const host = `Host: 127.0.0.1:${args.port}\r\n`;
  const token = tokens.length > 0 ? `token=${tokens[i]}` : '';
  switch (args.transport) {
    case 'ws':
      return Buffer.concat([
        Buffer.from(
          `GET /ws${token === '' ? '' : `?${token}`} HTTP/1.1\r\n${host}Upgrade: websocket\r\nConnection: Upgrade\r\n` +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        ),
        maskedText(JSON.stringify({ id: 1, op: 'subscribe', channel })),
      ]);
    case 'sse':
      return Buffer.from(
        `GET /sse?channel=${channel}${token === '' ? '' : `&${token}`} HTTP/1.1\r\n${host}Accept: text/event-stream\r\n\r\n`,
      );
    case 'poll':
      return Buffer.from(
        `GET /poll?channel=${channel}${token === '' ? '' : `&${token}`} HTTP/1.1\r\n${host}\r\n`,
      );
  }
}

const READY_MARK: Record<ClientsArgs['transport'], string | null> = {
  ws: '"ok":true',
  sse: 'event: subscribed',
  poll: null,
};

const sockets: Socket[] = [];
let ready = 0;

function open(i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const mark = READY_MARK[args.transport];
    let seen = '';
    let done = false;
    const s = createConnection({ port: args.port, host: '127.0.0.1', localAddress: args.localAddress });
    sockets.push(s);
    s.once('connect', () => {
      s.write(request(i));
      if (mark === null) {
        done = true;
        ready++;
        resolve();
      }
    });
    let tail = '';
    s.on('data', (d: Buffer) => {
      if (done) {
        if (watch.length > 0) tail = countIn(tail + d.toString('latin1'));
        return;
      }
      seen += d.toString('latin1');
      const at = mark === null ? -1 : seen.indexOf(mark);
      if (at >= 0) {
        done = true;
        ready++;
        if (watch.length > 0) tail = countIn(seen.slice(at));
        seen = '';
        resolve();
      } else if (
        seen.startsWith('HTTP/1.1 ') &&
        !seen.startsWith('HTTP/1.1 10') &&
        !seen.startsWith('HTTP/1.1 200')
      ) {
        reject(new Error(`server answered ${seen.slice(0, 40)}`));
      }
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error('closed by the server')));
  });
}

async function main(): Promise<void> {
  const deadline = setTimeout(() => process.exit(3), args.deadlineMs);
  deadline.unref();
  process.on('disconnect', () => process.exit(0));
  if (args.auth !== undefined) tokens = await mint(args.auth, args.first, args.count);
  if (args.waitGo === true) {
    const go = new Promise<void>((resolve) => process.once('message', () => resolve()));
    send({ minted: true });
    await go;
  }
  if (watch.length > 0) process.on('message', (m) => m === 'count' && send({ counts: [...counts] }));
  for (let i = 0; i < args.count; i += args.batch) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(args.count, i + args.batch); j++) batch.push(open(j));
    await Promise.all(batch);
    send({ ready });
  }
  // Stay open; a connection closed by the server from now on is a failed run.
  for (const s of sockets) {
    s.removeAllListeners('close');
    s.on('close', () => send({ error: 'a connection was closed by the server while idle' }));
  }
}

main().catch((err: unknown) => {
  send({ error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
