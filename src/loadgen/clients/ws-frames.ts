import { randomBytes } from 'node:crypto';

/**
 * WebSocket framing for the bench's raw-socket client (RFC 6455): masked client frames out,
 * server frames in. Works on latin1 strings (one character per byte), like the HTTP reader.
 * Pure: tested with bytes, no sockets. Fragmented messages are joined; no extensions.
 */
export const OP_CONT = 0;
export const OP_TEXT = 1;
export const OP_BINARY = 2;
export const OP_CLOSE = 8;
export const OP_PING = 9;
export const OP_PONG = 10;

/** One masked client frame (FIN set). */
export function clientFrame(opcode: number, payload: Buffer | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const len = data.length;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + 4 + len);
  out[0] = 0x80 | opcode;
  if (len < 126) out[1] = 0x80 | len;
  else if (len < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeUInt32BE(0, 2);
    out.writeUInt32BE(len, 6);
  }
  const mask = randomBytes(4);
  mask.copy(out, head);
  for (let i = 0; i < len; i++) out[head + 4 + i] = data[i]! ^ mask[i & 3]!;
  return out;
}

/** The handshake's Sec-WebSocket-Key. */
export function handshakeKey(): string {
  return randomBytes(16).toString('base64');
}

export interface FrameSink {
  /** A complete message (text or binary) or control frame, payload as latin1. */
  onFrame(opcode: number, payload: string): void;
}

/** Parses server frames from latin1 chunks. One per connection; no closures. */
export class FrameReader {
  #buf = '';
  #fragments = '';
  #fragOp = -1;

  reset(): void {
    this.#buf = '';
    this.#fragments = '';
    this.#fragOp = -1;
  }

  /** Feeds bytes; throws on a protocol error. */
  feed(chunk: string, sink: FrameSink): void {
    const text = this.#buf.length > 0 ? this.#buf + chunk : chunk;
    this.#buf = '';
    let i = 0;
    const n = text.length;
    while (n - i >= 2) {
      const b0 = text.charCodeAt(i);
      const b1 = text.charCodeAt(i + 1);
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      if ((b0 & 0x70) !== 0) throw new Error('reserved bits set');
      const masked = (b1 & 0x80) !== 0;
      let len = b1 & 0x7f;
      let p = i + 2;
      if (len === 126) {
        if (n - p < 2) break;
        len = (text.charCodeAt(p) << 8) | text.charCodeAt(p + 1);
        p += 2;
      } else if (len === 127) {
        if (n - p < 8) break;
        if (text.charCodeAt(p) !== 0 || text.charCodeAt(p + 1) !== 0 || text.charCodeAt(p + 2) !== 0) {
          throw new Error('frame too large');
        }
        len = 0;
        for (let k = 3; k < 8; k++) len = len * 256 + text.charCodeAt(p + k);
        p += 8;
      }
      const maskAt = p;
      if (masked) p += 4;
      if (n - p < len) break;
      let payload = text.slice(p, p + len);
      if (masked) {
        let u = '';
        for (let k = 0; k < len; k++) {
          u += String.fromCharCode(payload.charCodeAt(k) ^ text.charCodeAt(maskAt + (k & 3)));
        }
        payload = u;
      }
      i = p + len;
      if (opcode >= 8) {
        if (!fin || len > 125) throw new Error('bad control frame');
        sink.onFrame(opcode, payload);
        continue;
      }
      if (opcode === OP_CONT) {
        if (this.#fragOp === -1) throw new Error('continuation without a start');
        this.#fragments += payload;
        if (fin) {
          const op = this.#fragOp;
          const all = this.#fragments;
          this.#fragments = '';
          this.#fragOp = -1;
          sink.onFrame(op, all);
        }
        continue;
      }
      if (opcode !== OP_TEXT && opcode !== OP_BINARY) throw new Error('unknown opcode');
      if (this.#fragOp !== -1) throw new Error('new message inside a fragmented one');
      if (fin) sink.onFrame(opcode, payload);
      else {
        this.#fragOp = opcode;
        this.#fragments = payload;
      }
    }
    if (i < n) this.#buf = text.slice(i);
  }
}
