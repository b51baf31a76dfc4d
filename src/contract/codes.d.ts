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
export declare const ErrorCodes: {
  readonly bad_request: {
    readonly status: 400;
    readonly message: 'The request is malformed.';
  };
  readonly invalid_json: {
    readonly status: 400;
    readonly message: 'The body is not valid JSON.';
  };
  readonly invalid_channel: {
    readonly status: 400;
    readonly message: 'The channel name is not valid.';
  };
  readonly unknown_op: {
    readonly status: 400;
    readonly message: 'Unknown op.';
  };
  readonly too_many_channels: {
    readonly status: 400;
    readonly message: 'Too many channels for one connection.';
  };
  readonly already_subscribed: {
    readonly status: 400;
    readonly message: 'Already subscribed to this channel.';
  };
  readonly not_subscribed: {
    readonly status: 400;
    readonly message: 'Not subscribed to this channel.';
  };
  readonly unauthorized: {
    readonly status: 401;
    readonly message: 'Missing or wrong API key.';
  };
  readonly invalid_token: {
    readonly status: 401;
    readonly message: 'The connection token is not valid.';
  };
  readonly token_expired: {
    readonly status: 401;
    readonly message: 'The connection token has expired; get a new one.';
  };
  readonly permission_denied: {
    readonly status: 403;
    readonly message: 'Permission denied.';
  };
  readonly unknown_namespace: {
    readonly status: 400;
    readonly message: 'The channel is in no configured namespace.';
  };
  readonly presence_disabled: {
    readonly status: 400;
    readonly message: "Presence is not enabled in this channel's namespace.";
  };
  /** A held long-poll ended by POST /api/disconnect (Disconnects.disconnected on the other transports). */
  readonly disconnected: {
    readonly status: 403;
    readonly message: "The application ended this user's connections.";
  };
  readonly forbidden: {
    readonly status: 403;
    readonly message: 'Origin not allowed.';
  };
  readonly not_found: {
    readonly status: 404;
    readonly message: 'No such route.';
  };
  readonly channel_full: {
    readonly status: 400;
    readonly message: 'The channel has as many subscribers as allowed.';
  };
  readonly method_not_allowed: {
    readonly status: 405;
    readonly message: 'Method not allowed on this route.';
  };
  readonly payload_too_large: {
    readonly status: 413;
    readonly message: 'The body or frame is larger than allowed.';
  };
  readonly uri_too_long: {
    readonly status: 414;
    readonly message: 'The URL is longer than allowed.';
  };
  readonly unsupported_media_type: {
    readonly status: 415;
    readonly message: 'Send JSON (Content-Type: application/json).';
  };
  readonly rate_limited: {
    readonly status: 429;
    readonly message: 'Too many requests; slow down.';
  };
  readonly too_many_attempts: {
    readonly status: 429;
    readonly message: 'Too many wrong keys from this address; retry later.';
  };
  readonly internal: {
    readonly status: 500;
    readonly message: 'Internal error.';
  };
  readonly backend_unavailable: {
    readonly status: 503;
    readonly message: "The application's backend did not answer in time; retry later.";
  };
  readonly unavailable: {
    readonly status: 503;
    readonly message: 'The server cannot take this now; retry later.';
  };
  readonly overloaded: {
    readonly status: 503;
    readonly message: 'The server is at its connection limit; retry later.';
  };
  readonly draining: {
    readonly status: 503;
    readonly message: 'The server is shutting down; connect again.';
  };
};
export type ErrorCode = keyof typeof ErrorCodes;
export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
  };
}
export declare function errorBody(code: ErrorCode, message?: string): ErrorBody;
/** A failure with a code from the table; the only kind of error shown to clients. */
export declare class HoldfastError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message?: string);
  get status(): number;
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
export declare const Disconnects: {
  readonly normal: {
    readonly code: 1000;
    readonly reason: 'normal';
    readonly reconnect: false;
  };
  readonly goingAway: {
    readonly code: 1001;
    readonly reason: 'going away';
    readonly reconnect: true;
  };
  readonly protocolError: {
    readonly code: 1002;
    readonly reason: 'protocol error';
    readonly reconnect: false;
  };
  /** A binary data frame: the protocol is JSON text frames. */
  readonly unsupportedData: {
    readonly code: 1003;
    readonly reason: 'send JSON text frames';
    readonly reconnect: false;
  };
  readonly invalidPayload: {
    readonly code: 1007;
    readonly reason: 'invalid payload';
    readonly reconnect: false;
  };
  /** A message over maxFrameBytes, or of more fragments than MAX_FRAGMENTS (ws/frame.ts). */
  readonly messageTooBig: {
    readonly code: 1009;
    readonly reason: 'message too big';
    readonly reconnect: false;
  };
  readonly internal: {
    readonly code: 1011;
    readonly reason: 'internal error';
    readonly reconnect: true;
  };
  readonly overloaded: {
    readonly code: 1013;
    readonly reason: 'try again later';
    readonly reconnect: true;
  };
  readonly shutdown: {
    readonly code: 3000;
    readonly reason: 'server shutting down';
    readonly reconnect: true;
  };
  readonly slow: {
    readonly code: 3001;
    readonly reason: 'slow consumer';
    readonly reconnect: true;
  };
  readonly noPong: {
    readonly code: 3002;
    readonly reason: 'no pong';
    readonly reconnect: true;
  };
  readonly idle: {
    readonly code: 3003;
    readonly reason: 'idle without subscriptions';
    readonly reconnect: true;
  };
  readonly insufficientState: {
    readonly code: 3004;
    readonly reason: 'insufficient state';
    readonly reconnect: true;
  };
  /** The connection's token (or the connect proxy's expireAt) has passed: reconnect with a new one. */
  readonly tokenExpired: {
    readonly code: 3005;
    readonly reason: 'token expired';
    readonly reconnect: true;
  };
  readonly rateLimited: {
    readonly code: 3006;
    readonly reason: 'too many frames; reconnect later';
    readonly reconnect: true;
  };
  /** The connect proxy (the application's backend) failed or timed out: reconnect with back-off. */
  readonly backendUnavailable: {
    readonly code: 3007;
    readonly reason: 'backend unavailable';
    readonly reconnect: true;
  };
  readonly badRequest: {
    readonly code: 3500;
    readonly reason: 'bad request';
    readonly reconnect: false;
  };
  readonly forbidden: {
    readonly code: 3501;
    readonly reason: 'forbidden';
    readonly reconnect: false;
  };
  /** A bad connection token (bad signature, malformed, wrong claims), or a refused refresh. */
  readonly invalidToken: {
    readonly code: 3506;
    readonly reason: 'invalid token';
    readonly reconnect: false;
  };
  /** POST /api/disconnect: the application ended this user's connections. */
  readonly disconnected: {
    readonly code: 3507;
    readonly reason: 'disconnected by the application';
    readonly reconnect: false;
  };
};
export type DisconnectName = keyof typeof Disconnects;
/**
 * What a close frame without a status code means (RFC 6455 7.1.5); never sent: such a frame is
 * answered with an empty close frame.
 */
export declare const NO_STATUS = 1005;
