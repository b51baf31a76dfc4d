import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** RFC 6455 4.2: the server side of the opening handshake. Pure: headers in, response bytes out. */

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const KEY = /^[+/0-9A-Za-z]{22}==$/;

export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

export type Handshake = { ok: true; response: string } | { ok: false; status: number; response: string };

function refuse(status: number, text: string, extra = ''): Handshake {
  return {
    ok: false,
    status,
    response: `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n${extra}Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  };
}

/**
 * Checks an upgrade request and builds the answer: a 101 with the accept key (and the first
 * subprotocol offered, if any, as `ws` does), or the error response. No extension is accepted.
 */
export function handshake(method: string | undefined, headers: IncomingHttpHeaders): Handshake {
  if (method !== 'GET') return refuse(405, 'Method Not Allowed');
  if (headers.upgrade?.toLowerCase() !== 'websocket') return refuse(400, 'Bad Request');
  const key = headers['sec-websocket-key'];
  if (key === undefined || !KEY.test(key)) return refuse(400, 'Bad Request');
  const version = headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') {
    return refuse(400, 'Bad Request', 'Sec-WebSocket-Version: 13, 8\r\n');
  }
  let response =
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n`;
  const protocols = headers['sec-websocket-protocol'];
  if (protocols !== undefined) {
    const first = protocols.split(',')[0]!.trim();
    if (first !== '') response += `Sec-WebSocket-Protocol: ${first}\r\n`;
  }
  return { ok: true, response: response + '\r\n' };
}
