import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/config.js';
import { type ErrorCode, ErrorCodes, errorBody, HoldfastError } from '../core/codes.js';

export function originAllowed(config: Config, origin: string | undefined): boolean {
  if (origin === undefined || config.allowedOrigins.includes('*')) return true;
  return config.allowedOrigins.includes(origin);
}

/** CORS headers for browser transports; the request's origin has been checked already. */
export function corsHeaders(req: IncomingMessage): Record<string, string> {
  return corsFor(req.headers.origin);
}

/** No CORS headers: one frozen object shared by every request without an Origin. */
const NO_CORS: Record<string, string> = Object.freeze({});

/** CORS headers for a request from `origin` (none without one), already checked; read-only. */
export function corsFor(origin: string | undefined): Record<string, string> {
  return origin === undefined ? NO_CORS : { 'access-control-allow-origin': origin, vary: 'Origin' };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Answers with the `{"error": ...}` body for a HoldfastError; anything else is a 500 without details. */
export function sendError(res: ServerResponse, err: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const code: ErrorCode = err instanceof HoldfastError ? err.code : 'internal';
  const message = err instanceof HoldfastError ? err.message : ErrorCodes.internal.message;
  sendJson(res, ErrorCodes[code].status, errorBody(code, message), headers);
}

/**
 * Answers with an error and closes the connection without reading the rest of the request (an
 * oversized body). The close waits until this answer is written: with pipelined requests, the
 * answers to earlier ones are still queued ahead of it and must not be cut off.
 */
export function sendErrorAndClose(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  res.setHeader('connection', 'close');
  res.once('finish', () => req.socket.end());
  sendError(res, err);
}
