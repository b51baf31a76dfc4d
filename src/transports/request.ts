import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Config } from '../config/config.js';
import { isValidChannel } from '../contract/channel.js';
import { HoldfastError } from '../contract/codes.js';
import { corsFor, originAllowed } from '../http/cors.js';

/**
 * What SSE and long-poll requests have in common, read from the request target and headers by
 * one pure function for both the node:http routes and the fast path (sse-request.ts,
 * poll-request.ts), so the two can answer the same request only the same way.
 */

/**
 * Header values by lower-case name, repeated headers joined with ", ". The fast path's parsed
 * head (http1/head.ts) is a Map and is one as it is; node:http's headers go through NodeHeaders.
 */
export interface HeaderLookup {
  get(name: string): string | undefined;
}

/** node:http's request headers as a HeaderLookup. */
export class NodeHeaders implements HeaderLookup {
  readonly #headers: IncomingHttpHeaders;

  constructor(headers: IncomingHttpHeaders) {
    this.#headers = headers;
  }

  get(name: string): string | undefined {
    const v = this.#headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  }
}

/**
 * A valid request for a stream of channels. The connection token (the `token` query parameter
 * or `Authorization: Bearer`) is read here, so both transports and both paths get it from one
 * place.
 */
export interface StreamRequest {
  /** Channel names, validated, de-duplicated, in the order given. */
  readonly channels: string[];
  /** The request's Origin, already allowed (undefined without one): the answer's CORS fields. */
  readonly origin: string | undefined;
  /** The connection token (tokenOf); undefined without one. */
  readonly token: string | undefined;
}

/**
 * The connection token of a request: `?token=`, else `Authorization: Bearer <token>`; an empty
 * one is none (a page that builds `?token=` without one is anonymous).
 */
export function tokenOf(params: URLSearchParams, headers: HeaderLookup): string | undefined {
  const q = params.get('token');
  if (q !== null && q !== '') return q;
  const auth = headers.get('authorization');
  if (auth === undefined || auth.length < 8 || auth.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const t = auth.slice(7).trim();
  return t === '' ? undefined : t;
}

/**
 * The rules that do not depend on the query: the target's length (`maxUrlLength`, as node:http
 * routing checks it) and the Origin. Null when both pass.
 */
export function checkRequest(target: string, headers: HeaderLookup, config: Config): HoldfastError | null {
  if (target.length > config.maxUrlLength) return new HoldfastError('uri_too_long');
  if (!originAllowed(config, headers.get('origin'))) return new HoldfastError('forbidden');
  return null;
}

/** A StreamRequest and the query it was read from (for the transport's own parameters). */
export interface StreamQuery {
  request: StreamRequest;
  params: URLSearchParams;
}

/** checkRequest, then the channels of the query. */
export function readStreamRequest(
  target: string,
  headers: HeaderLookup,
  config: Config,
): StreamQuery | HoldfastError {
  const refused = checkRequest(target, headers, config);
  if (refused !== null) return refused;
  const params = queryOf(target);
  const channels = readChannels(params, config);
  if (channels instanceof HoldfastError) return channels;
  return { request: { channels, origin: headers.get('origin'), token: tokenOf(params, headers) }, params };
}

/** The query of a request target (after `?`, without a `#` fragment, as WHATWG URL reads it). */
export function queryOf(target: string): URLSearchParams {
  const q = target.indexOf('?');
  const hash = target.indexOf('#');
  if (q < 0 || (hash >= 0 && hash < q)) return new URLSearchParams();
  return new URLSearchParams(target.slice(q + 1, hash < 0 ? target.length : hash));
}

/**
 * `?channel=a&channel=b`: one channel per parameter, validated, de-duplicated, order kept. A
 * comma is part of a name (user channels such as `dialog:#42,43`, core/channel.ts), as on
 * WebSocket: several channels are given only as repeated parameters.
 */
export function readChannels(
  params: URLSearchParams,
  config: Pick<Config, 'maxChannelLength' | 'maxChannelsPerConnection'>,
): string[] | HoldfastError {
  const out: string[] = [];
  for (const name of params.getAll('channel')) {
    if (!isValidChannel(name, config.maxChannelLength)) return invalidChannel(name);
    if (!out.includes(name)) out.push(name);
  }
  if (out.length === 0) return new HoldfastError('bad_request', 'Give at least one ?channel=.');
  if (out.length > config.maxChannelsPerConnection) return new HoldfastError('too_many_channels');
  return out;
}

function invalidChannel(name: string): HoldfastError {
  return new HoldfastError(
    'invalid_channel',
    `Channel name not valid: ${JSON.stringify(name.slice(0, 64))}.`,
  );
}

/** The CORS fields of an error answer: none for a refused Origin. */
export function errorCors(err: HoldfastError, origin: string | undefined): Record<string, string> {
  return corsFor(err.code === 'forbidden' ? undefined : origin);
}

/** The answer to a stream request pipelined behind another on its connection (pipelined()). */
export function pipelinedError(): HoldfastError {
  return new HoldfastError(
    'bad_request',
    'A stream request must not be pipelined behind another request on its connection.',
  );
}

/**
 * Whether node:http queued this response behind another one on its connection (a pipelined
 * request). Such a response has no socket until those before it end, and node:http never emits
 * its 'close' when the connection closes first, so a session tied to it would outlive its
 * socket: SSE and long-poll refuse such requests (README, "Pipelining").
 */
export function pipelined(res: ServerResponse): boolean {
  return res.socket === null;
}
