import type { Config } from '../config/config.js';
import { HoldfastError } from '../contract/codes.js';
import { parseCursor } from '../contract/positions.js';
import type { StreamPosition } from '../contract/stream.js';
import { type HeaderLookup, readStreamRequest, type StreamRequest } from './request.js';

/** A valid `GET /sse` request: what an SseSession needs. */
export interface SseRequest extends StreamRequest {
  /**
   * Where to resume each channel, from `Last-Event-ID` (or `?lastEventId=`, for clients that
   * cannot set headers); null to start from now, also when it is malformed or for other channels
   * (an EventSource resends the id it last saw, which a server restart may have made stale).
   */
  readonly since: StreamPosition[] | null;
}

/**
 * Reads a `GET /sse` request from its target and headers (the path is the route's business), or
 * the error to answer. Pure, and the only reader of SSE requests: the node:http route (sse.ts)
 * and the fast path (sse-fast.ts) both call it, so they accept and refuse the same requests.
 */
export function parseSseRequest(
  target: string,
  headers: HeaderLookup,
  config: Config,
): SseRequest | HoldfastError {
  const read = readStreamRequest(target, headers, config);
  if (read instanceof HoldfastError) return read;
  const { request, params } = read;
  const last = headers.get('last-event-id') ?? params.get('lastEventId') ?? '';
  const since = last !== '' ? parseCursor(last, request.channels.length) : null;
  return { channels: request.channels, origin: request.origin, token: request.token, since };
}
