import type { IncomingMessage } from 'node:http';
import type { Config } from '../config/config.js';

/** Whether a browser at `origin` may use the transports (`allowedOrigins`); no Origin: not a browser. */
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
