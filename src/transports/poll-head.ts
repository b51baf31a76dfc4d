import { STATUS_CODES } from 'node:http';
import { httpDate } from './http1/date.js';

/**
 * The head of every long-poll answer (a JSON body, success or error), for both paths:
 * node:http's route writes pollFields() with writeHead, the fast path writes pollHead() on the
 * socket. Keep-alive is the connection's business (node:http decides it there, the fast path
 * says it).
 */
const JSON_TYPE = 'application/json; charset=utf-8';
const NO_STORE = 'no-store';

/** The fields of an answer with a `bodyBytes` long body and `extra` (CORS, retry-after). */
export function pollFields(
  bodyBytes: number,
  extra: Record<string, string>,
): Record<string, string | number> {
  return { 'content-type': JSON_TYPE, 'content-length': bodyBytes, 'cache-control': NO_STORE, ...extra };
}

const JSON_FIELDS = `content-type: ${JSON_TYPE}\r\ncache-control: ${NO_STORE}\r\n`;
/** Written from constants: the fast path writes one head per long-poll answer. */
const OK_JSON = `HTTP/1.1 200 OK\r\n${JSON_FIELDS}`;

/** The whole head of an answer as pollFields() says, for a bare socket. */
export function pollHead(
  status: number,
  bodyBytes: number,
  extra: Record<string, string>,
  keep: boolean,
): string {
  let head = status === 200 ? OK_JSON : `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${JSON_FIELDS}`;
  head += `content-length: ${bodyBytes}\r\n`;
  for (const k in extra) head += `${k}: ${extra[k]}\r\n`;
  return `${head}date: ${httpDate()}\r\nconnection: ${keep ? 'keep-alive' : 'close'}\r\n\r\n`;
}
