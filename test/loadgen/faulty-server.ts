import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { scanMarkers } from '../../src/loadgen/payload.js';

interface Poll {
  channels: string[];
  cursor: number;
  res: ServerResponse;
  timer: NodeJS.Timeout | null;
}

/**
 * A deliberately broken push server for testing the bench's checker: generic protocol (no
 * acknowledgements, no offsets). Publish: POST /pub?ch=NAME with the payload as the body.
 * Subscribe: WebSocket /sub?ch=A&ch=B (frames are the payloads), SSE /events?ch=A&ch=B, or
 * long-poll /poll?ch=A&ch=B&cursor=N (answers `{"cursor", "messages": [{"channel", "data"}]}`;
 * the cursor counts everything the server sent; no cursor answers at once with the current one).
 * Per channel, by sequence number: n % 10 == 3 is dropped, n % 10 == 5 is sent twice,
 * n % 10 == 7 is held and sent after n + 1. Publications are put back in sequence order
 * first, so the faults are exactly these whatever the order requests arrive in.
 */
export class FaultyServer {
  readonly http: Server;
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  readonly #subs = new Map<string, Set<WebSocket | ServerResponse>>();
  readonly #next = new Map<string, number>();
  readonly #pending = new Map<string, Map<number, string>>();
  readonly #held = new Map<string, string>();
  readonly #log: { channel: string; text: string }[] = [];
  readonly #polls = new Set<Poll>();
  sent = 0;

  constructor() {
    this.http = createServer((req, res) => this.#request(req, res));
    this.http.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/sub') {
        socket.destroy();
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        const channels = url.searchParams.getAll('ch');
        for (const c of channels) this.#set(c).add(ws);
        ws.on('close', () => {
          for (const c of channels) this.#set(c).delete(ws);
        });
      });
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.http.listen(0, '127.0.0.1', r));
    return (this.http.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const p of this.#polls) if (p.timer !== null) clearTimeout(p.timer);
    this.#polls.clear();
    for (const set of this.#subs.values()) {
      for (const s of set) {
        if ('terminate' in s) s.terminate();
        else s.destroy();
      }
    }
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http.close(() => r()));
  }

  #set(channel: string): Set<WebSocket | ServerResponse> {
    let s = this.#subs.get(channel);
    if (s === undefined) {
      s = new Set();
      this.#subs.set(channel, s);
    }
    return s;
  }

  #request(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(': hello\n\n');
      const channels = url.searchParams.getAll('ch');
      for (const c of channels) this.#set(c).add(res);
      res.on('close', () => {
        for (const c of channels) this.#set(c).delete(res);
      });
      return;
    }
    if (url.pathname === '/poll') {
      const channels = url.searchParams.getAll('ch');
      const c = url.searchParams.get('cursor') ?? '';
      const poll: Poll = { channels, cursor: c === '' ? this.#log.length : Number(c), res, timer: null };
      if (c === '' || this.#hasNews(poll)) {
        this.#answer(poll);
        return;
      }
      poll.timer = setTimeout(() => this.#answer(poll), 5000);
      this.#polls.add(poll);
      res.on('close', () => {
        if (poll.timer !== null) clearTimeout(poll.timer);
        this.#polls.delete(poll);
      });
      return;
    }
    if (url.pathname === '/pub' && req.method === 'POST') {
      const channel = url.searchParams.get('ch') ?? '';
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('end', () => {
        let seq = 0;
        scanMarkers(body, (_c, s) => {
          seq = s;
        });
        if (seq === 0) {
          res.statusCode = 400;
          res.end('{"error":"no marker"}');
          return;
        }
        this.#accept(channel, seq, body);
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      });
      return;
    }
    res.statusCode = 404;
    res.end();
  }

  /** Puts publications back in sequence order, then applies the faults. */
  #accept(channel: string, seq: number, text: string): void {
    let pending = this.#pending.get(channel);
    if (pending === undefined) {
      pending = new Map();
      this.#pending.set(channel, pending);
    }
    pending.set(seq, text);
    let next = this.#next.get(channel) ?? 1;
    while (pending.has(next)) {
      this.#fault(channel, next, pending.get(next)!);
      pending.delete(next);
      next++;
    }
    this.#next.set(channel, next);
  }

  #fault(channel: string, seq: number, text: string): void {
    switch (seq % 10) {
      case 3:
        return;
      case 5:
        this.#send(channel, text);
        this.#send(channel, text);
        return;
      case 7:
        this.#held.set(channel, text);
        return;
      case 8: {
        this.#send(channel, text);
        const held = this.#held.get(channel);
        this.#held.delete(channel);
        if (held !== undefined) this.#send(channel, held);
        return;
      }
      default:
        this.#send(channel, text);
    }
  }

  #send(channel: string, text: string): void {
    for (const s of this.#subs.get(channel) ?? []) {
      this.sent++;
      if ('terminate' in s) s.send(text);
      else s.write(`data: ${text}\n\n`);
    }
    this.#log.push({ channel, text });
    for (const p of this.#polls) if (p.channels.includes(channel)) this.#answer(p);
  }

  #hasNews(p: Poll): boolean {
    for (let i = p.cursor; i < this.#log.length; i++)
      if (p.channels.includes(this.#log[i]!.channel)) return true;
    return false;
  }

  #answer(p: Poll): void {
    if (p.timer !== null) clearTimeout(p.timer);
    this.#polls.delete(p);
    const messages = this.#log
      .slice(p.cursor)
      .filter((e) => p.channels.includes(e.channel))
      .map((e) => ({ channel: e.channel, data: e.text }));
    if (!p.res.writableEnded) {
      p.res.setHeader('content-type', 'application/json');
      p.res.end(JSON.stringify({ cursor: String(this.#log.length), messages }));
    }
  }
}
