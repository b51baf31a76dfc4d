/**
 * Every error and disconnect code Holdfast sends, in one table (STYLE.md "Code").
 *
 * Error codes are strings in `{"error": {"code", "message"}}` answers (HTTP API and WebSocket
 * replies). Disconnect codes are WebSocket close codes, also sent to SSE clients in a final
 * `disconnect` event. Ranges say what a client should do:
 *   1000-2999  WebSocket standard codes
 *   3000-3499  reconnect (with back-off) and resume from the last offset
 *   3500-3999  do not reconnect: something must change first
 */

export const ErrorCodes = {
  bad_request: { status: 400, message: 'The request is malformed.' },
  invalid_json: { status: 400, message: 'The body is not valid JSON.' },
  invalid_channel: { status: 400, message: 'The channel name is not valid.' },
  unknown_op: { status: 400, message: 'Unknown op.' },
  too_many_channels: { status: 400, message: 'Too many channels for one connection.' },
  already_subscribed: { status: 400, message: 'Already subscribed to this channel.' },
  not_subscribed: { status: 400, message: 'Not subscribed to this channel.' },
  unauthorized: { status: 401, message: 'Missing or wrong API key.' },
  invalid_token: { status: 401, message: 'The connection token is not valid.' },
  token_expired: { status: 401, message: 'The connection token has expired; get a new one.' },
  permission_denied: { status: 403, message: 'Permission denied.' },
  unknown_namespace: { status: 400, message: 'The channel is in no configured namespace.' },
  presence_disabled: { status: 400, message: "Presence is not enabled in this channel's namespace." },
  /** A held long-poll ended by POST /api/disconnect (Disconnects.disconnected on the other transports). */
  disconnected: { status: 403, message: "The application ended this user's connections." },
  forbidden: { status: 403, message: 'Origin not allowed.' },
  not_found: { status: 404, message: 'No such route.' },
  channel_full: { status: 400, message: 'The channel has as many subscribers as allowed.' },
  method_not_allowed: { status: 405, message: 'Method not allowed on this route.' },
  payload_too_large: { status: 413, message: 'The body or frame is larger than allowed.' },
  uri_too_long: { status: 414, message: 'The URL is longer than allowed.' },
  unsupported_media_type: { status: 415, message: 'Send JSON (Content-Type: application/json).' },
  rate_limited: { status: 429, message: 'Too many requests; slow down.' },
  too_many_attempts: { status: 429, message: 'Too many wrong keys from this address; retry later.' },
  internal: { status: 500, message: 'Internal error.' },
  backend_unavailable: {
    status: 503,
    message: "The application's backend did not answer in time; retry later.",
  },
  unavailable: { status: 503, message: 'The server cannot take this now; retry later.' },
  overloaded: { status: 503, message: 'The server is at its connection limit; retry later.' },
  draining: { status: 503, message: 'The server is shutting down; connect again.' },
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export function errorBody(code: ErrorCode, message?: string): ErrorBody {
  return { error: { code, message: message ?? ErrorCodes[code].message } };
}

/** A failure with a code from the table; the only kind of error shown to clients. */
export class HoldfastError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message?: string) {
    super(message ?? ErrorCodes[code].message);
    this.code = code;
  }
  get status(): number {
    return ErrorCodes[this.code].status;
  }
}

export interface Disconnect {
  /** WebSocket close code. */
  code: number;
  /** Short reason, at most 123 bytes (WebSocket close frame limit). */
  reason: string;
  reconnect: boolean;
}

/**
 * Every close code the server sends. RFC 6455 codes (7.4.1) first: the protocol faults are sent by
 * transports/ws/frame.ts with a reason naming the fault; then Holdfast's own, in the ranges above.
 */
export const Disconnects = {
  // RFC 6455
  normal: { code: 1000, reason: 'normal', reconnect: false },
  goingAway: { code: 1001, reason: 'going away', reconnect: true },
  protocolError: { code: 1002, reason: 'protocol error', reconnect: false },
  /** A binary data frame: the protocol is JSON text frames. */
  unsupportedData: { code: 1003, reason: 'send JSON text frames', reconnect: false },
  invalidPayload: { code: 1007, reason: 'invalid payload', reconnect: false },
  /** A message over maxFrameBytes, or of more fragments than MAX_FRAGMENTS (ws/frame.ts). */
  messageTooBig: { code: 1009, reason: 'message too big', reconnect: false },
  internal: { code: 1011, reason: 'internal error', reconnect: true },
  overloaded: { code: 1013, reason: 'try again later', reconnect: true },
  // Reconnect (with back-off) and resume.
  shutdown: { code: 3000, reason: 'server shutting down', reconnect: true },
  slow: { code: 3001, reason: 'slow consumer', reconnect: true },
  noPong: { code: 3002, reason: 'no pong', reconnect: true },
  idle: { code: 3003, reason: 'idle without subscriptions', reconnect: true },
  insufficientState: { code: 3004, reason: 'insufficient state', reconnect: true },
  /** The connection's token (or the connect proxy's expireAt) has passed: reconnect with a new one. */
  tokenExpired: { code: 3005, reason: 'token expired', reconnect: true },
  rateLimited: { code: 3006, reason: 'too many frames; reconnect later', reconnect: true },
  /** The connect proxy (the application's backend) failed or timed out: reconnect with back-off. */
  backendUnavailable: { code: 3007, reason: 'backend unavailable', reconnect: true },
  // Do not reconnect.
  badRequest: { code: 3500, reason: 'bad request', reconnect: false },
  forbidden: { code: 3501, reason: 'forbidden', reconnect: false },
  /** A bad connection token (bad signature, malformed, wrong claims), or a refused refresh. */
  invalidToken: { code: 3506, reason: 'invalid token', reconnect: false },
  /** POST /api/disconnect: the application ended this user's connections. */
  disconnected: { code: 3507, reason: 'disconnected by the application', reconnect: false },
} as const satisfies Record<string, Disconnect>;

export type DisconnectName = keyof typeof Disconnects;

/**
 * What a close frame without a status code means (RFC 6455 7.1.5); never sent: such a frame is
 * answered with an empty close frame.
 */
export const NO_STATUS = 1005;
