import { type BackoffPolicy, DEFAULT_BACKOFF } from './backoff.js';
import { PollConnection } from './poll.js';
import { SseConnection } from './sse.js';
import type { Connection, Fetch, Link, TransportEvents, TransportName } from './transport.js';
import { type WebSocketConstructor, WsConnection } from './ws.js';

/** The options of `new Holdfast(url, options)`; docs/CLIENT.md lists them with their defaults. */
export interface HoldfastOptions {
  /** A connection token (JWT), sent as `?token=` on WebSocket and `Authorization: Bearer` on SSE and long-poll. */
  token?: string;
  /** Called for a token before the first connection, before the current one's `exp`, and after a 3005 close. */
  getToken?: () => string | Promise<string>;
  /** The transports to try, in order (default `['ws', 'sse', 'poll']`, without `ws` where there is no WebSocket). */
  transports?: readonly TransportName[];
  /** A WebSocket constructor (default: the global one; Node 20 has none: pass the `ws` package's). */
  WebSocket?: WebSocketConstructor;
  /** The `fetch` for SSE and long-poll (default: the global one). */
  fetch?: Fetch;
  /** Reconnect back-off (default base 500 ms, cap 30 s). */
  backoff?: Partial<BackoffPolicy>;
  /** A connection open this long counts as stable: the next reconnect starts the back-off again (default 10 s). */
  stableMs?: number;
  /** The paths of the transports on the server (default `/ws`, `/sse`, `/poll`). */
  paths?: Partial<Record<TransportName, string>>;
  /** Random source of the back-off's jitter (default `Math.random`). */
  random?: () => number;
  /** Makes the connections (default: the three transports above); for tests and custom transports. */
  connect?: ConnectionFactory;
}

export type ConnectionFactory = (name: TransportName, link: Link, events: TransportEvents) => Connection;

export interface Resolved {
  transports: TransportName[];
  backoff: BackoffPolicy;
  stableMs: number;
  random: () => number;
  connect: ConnectionFactory;
}

/** Options with their defaults filled in; `url` is the server's base URL (http, https, ws or wss). */
export function resolveOptions(url: string, opts: HoldfastOptions): Resolved {
  const base = url.replace(/\/+$/, '');
  const httpBase = base.replace(/^ws(s?):/, 'http$1:');
  const wsBase = httpBase.replace(/^http(s?):/, 'ws$1:');
  const paths = { ws: '/ws', sse: '/sse', poll: '/poll', ...opts.paths };
  const WS = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  // Called as a plain function: a browser's fetch called as a method of another object (the
  // connection's field) throws "Illegal invocation".
  const fetchImpl: Fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const wanted = opts.transports ?? ['ws', 'sse', 'poll'];
  const transports =
    opts.connect !== undefined ? [...wanted] : wanted.filter((t) => t !== 'ws' || WS !== undefined);
  const connect: ConnectionFactory =
    opts.connect ??
    ((name, link, events) => {
      if (name === 'ws') return new WsConnection(wsBase + paths.ws, WS!, link, events);
      if (name === 'sse') return new SseConnection(httpBase + paths.sse, fetchImpl, link, events);
      return new PollConnection(httpBase + paths.poll, fetchImpl, link, events);
    });
  return {
    transports,
    backoff: { ...DEFAULT_BACKOFF, ...opts.backoff },
    stableMs: opts.stableMs ?? 10_000,
    random: opts.random ?? Math.random,
    connect,
  };
}
