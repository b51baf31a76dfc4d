import { httpDate } from './http1/date.js';

/**
 * The head of every SSE answer, for both paths: node:http's route writes sseFields() with
 * writeHead (no chunked framing, see sse.ts), the fast path writes sseHead() on the socket. The
 * body is delimited by the connection's end, which is how a stream ends anyway, so the answer
 * says `connection: close` on both.
 */
const FIELDS: Record<string, string> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
  connection: 'close',
};

/** The first bytes of every stream: how long an EventSource waits before reconnecting. */
export const SSE_OPENING = 'retry: 2000\n\n';

/** The fields of the 200 answer with `cors` (common.ts corsFor), for node:http's writeHead. */
export function sseFields(cors: Record<string, string>): Record<string, string> {
  return { ...FIELDS, ...cors };
}

let RAW_FIELDS = '';
for (const k in FIELDS) RAW_FIELDS += `${k}: ${FIELDS[k]}\r\n`;
const STATUS_LINE = 'HTTP/1.1 200 OK\r\n';

/** The whole 200 answer head with `cors`, then SSE_OPENING, as bytes for a bare socket. */
export function sseHead(cors: Record<string, string>): string {
  let head = STATUS_LINE + RAW_FIELDS;
  for (const k in cors) head += `${k}: ${cors[k]}\r\n`;
  return `${head}date: ${httpDate()}\r\n\r\n${SSE_OPENING}`;
}
