import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ErrorCode, ErrorCodes, errorBody, HoldfastError } from '../contract/codes.js';

/** JSON answers on node:http: the `{"error": ...}` body of DESIGN.md's HTTP API. */
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
