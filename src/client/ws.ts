import { closeError, reconnects } from './close-codes.js';
import { HoldfastClientError, serverError } from './errors.js';
import type { Connection, Link, TransportEvents } from './transport.js';

/** The part of the WHATWG WebSocket the client uses: the browser's global, or the `ws` package's in Node. */
export interface WebSocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

interface Pending {
  resolve(frame: Record<string, unknown>): void;
  reject(err: HoldfastClientError): void;
}

/** One WebSocket connection to `/ws` (README "WebSocket"): subscribes with `since`, ops by id. */
export class WsConnection implements Connection {
  readonly name = 'ws';
  readonly #socket: WebSocketLike;
  readonly #events: TransportEvents;
  readonly #link: Link;
  readonly #pending = new Map<number, Pending>();
  /** Subscribe ids to their channels, so replies find them. */
  readonly #subscribes = new Map<number, string>();
  #nextId = 1;
  #opened = false;
  #ended = false;

  constructor(url: string, Ctor: WebSocketConstructor, link: Link, events: TransportEvents) {
    this.#events = events;
    this.#link = link;
    const token = link.token();
    const target =
      token === undefined
        ? url
        : url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token);
    this.#socket = new Ctor(target);
    this.#socket.onopen = () => {
      this.#opened = true;
      this.#events.opened();
      for (const channel of this.#link.channels()) this.follow(channel);
    };
    this.#socket.onmessage = (ev) => {
      if (typeof ev.data === 'string') this.#frame(ev.data);
    };
    this.#socket.onclose = (ev) => this.#end(ev.code, ev.reason);
    this.#socket.onerror = () => undefined;
  }

  follow(channel: string): void {
    if (!this.#opened || this.#ended) return;
    const id = this.#nextId++;
    this.#subscribes.set(id, channel);
    const since = this.#link.since(channel);
    this.#send(
      since === undefined ? { id, op: 'subscribe', channel } : { id, op: 'subscribe', channel, since },
    );
  }

  leave(channel: string): void {
    if (!this.#opened || this.#ended) return;
    this.#send({ id: this.#nextId++, op: 'unsubscribe', channel });
  }

  call(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (!this.#opened || this.#ended) {
      return Promise.reject(new HoldfastClientError('not_connected', 'Not connected.'));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#send({ ...frame, id });
    });
  }

  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#failPending();
    this.#socket.onclose = null;
    this.#socket.onmessage = null;
    this.#socket.close(1000);
  }

  #send(frame: Record<string, unknown>): void {
    this.#socket.send(JSON.stringify(frame));
  }

  #frame(text: string): void {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof m !== 'object' || m === null) return;
    const ev = this.#events;
    if (typeof m['id'] === 'number') {
      this.#reply(m['id'], m);
      return;
    }
    const channel = m['channel'];
    if (typeof channel !== 'string') return;
    switch (m['op']) {
      case 'message':
        if (typeof m['offset'] === 'number') ev.message(channel, m['offset'], m['data']);
        return;
      case 'join':
      case 'leave':
        ev.presence(m['op'], channel, {
          client: String(m['client']),
          user: String(m['user']),
          info: m['info'] ?? null,
        });
        return;
      case 'unsubscribe':
        ev.unsubscribed(channel);
        return;
    }
  }

  #reply(id: number, m: Record<string, unknown>): void {
    const channel = this.#subscribes.get(id);
    if (channel !== undefined) {
      this.#subscribes.delete(id);
      if (m['ok'] === true) {
        const recovered = typeof m['recovered'] === 'boolean' ? m['recovered'] : undefined;
        this.#events.subscribed(channel, String(m['epoch'] ?? ''), Number(m['offset'] ?? 0), recovered);
      } else {
        this.#events.refused(channel, serverError(m) ?? new HoldfastClientError('internal', 'Refused.'));
      }
      return;
    }
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    if (m['ok'] === true) pending.resolve(m);
    else pending.reject(serverError(m) ?? new HoldfastClientError('internal', 'Refused.'));
  }

  #failPending(): void {
    for (const p of this.#pending.values())
      p.reject(new HoldfastClientError('not_connected', 'Disconnected.'));
    this.#pending.clear();
  }

  #end(code: number, reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#failPending();
    const reconnect = !this.#opened || reconnects(code);
    this.#events.ended({
      opened: this.#opened,
      code,
      reason,
      reconnect,
      error: reconnect ? null : closeError(code, reason),
      retryAfterMs: null,
    });
  }
}
