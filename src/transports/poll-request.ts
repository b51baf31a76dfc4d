import type { Config } from '../config/config.js';
import { HoldfastError } from '../contract/codes.js';
import { parseCursor } from '../contract/positions.js';
import type { StreamPosition } from '../contract/stream.js';
import { type HeaderLookup, readStreamRequest, type StreamRequest } from './request.js';

/** A valid `GET /poll` request: what a PollSession needs. */
export interface PollRequest extends StreamRequest {
  /** The `cursor` parameter as given (null without one): a parked session compares it. */
  readonly cursor: string | null;
  /** Where to start each channel, from the cursor; null (no cursor, or empty) starts from now. */
  readonly since: StreamPosition[] | null;
}

/**
 * Reads a `GET /poll` request from its target and headers (the path is the route's business), or
 * the error to answer. Pure, and the only reader of long-poll requests: the node:http route
 * (poll.ts) and the fast path (poll-fast.ts) both call it, so they accept and refuse the same
 * requests. Unlike SSE's Last-Event-ID, a bad cursor is an error: the client made it from an
 * answer, so it is a client bug or another server's.
 */
export function parsePollRequest(
  target: string,
  headers: HeaderLookup,
  config: Config,
): PollRequest | HoldfastError {
  const read = readStreamRequest(target, headers, config);
  if (read instanceof HoldfastError) return read;
  const { request, params } = read;
  const cursor = params.get('cursor');
  let since: StreamPosition[] | null = null;
  if (cursor !== null && cursor !== '') {
    since = parseCursor(cursor, request.channels.length);
    if (since === null)
      return new HoldfastError('bad_request', 'The cursor is malformed or for other channels.');
  }
  return { channels: request.channels, origin: request.origin, token: request.token, cursor, since };
}
