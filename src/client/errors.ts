import type { ErrorCode } from '../contract/codes.js';

/**
 * Codes of the client's own failures, besides the server's (src/contract/codes.ts):
 * `not_connected` (a call needing a connection while there is none), `closed` (the client was
 * closed), `unsupported` (an operation the current transport cannot carry: publish and presence
 * need WebSocket), `disconnect` (the server ended the connection with a do-not-reconnect close
 * code; `closeCode` says which), `no_transport` (no transport can run here).
 */
export type ClientOnlyCode = 'not_connected' | 'closed' | 'unsupported' | 'disconnect' | 'no_transport';

export type ClientErrorCode = ErrorCode | ClientOnlyCode;

/** Every error the client reports or rejects with: a value with a code. */
export class HoldfastClientError extends Error {
  readonly code: ClientErrorCode;
  /** The WebSocket close code (or SSE `disconnect` code) that caused it, when there was one. */
  readonly closeCode: number | null;

  constructor(code: ClientErrorCode, message: string, closeCode: number | null = null) {
    super(message);
    this.name = 'HoldfastClientError';
    this.code = code;
    this.closeCode = closeCode;
  }
}

/** The error of a server's `{"error": {"code", "message"}}` value, or null when `body` is not one. */
export function serverError(body: unknown): HoldfastClientError | null {
  if (typeof body !== 'object' || body === null) return null;
  const e = (body as { error?: unknown }).error;
  if (typeof e !== 'object' || e === null) return null;
  const { code, message } = e as { code?: unknown; message?: unknown };
  if (typeof code !== 'string') return null;
  return new HoldfastClientError(code as ErrorCode, typeof message === 'string' ? message : code);
}
