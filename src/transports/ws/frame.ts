import { isUtf8 } from 'node:buffer';
import { type Disconnect, Disconnects, NO_STATUS } from '../../contract/codes.js';

/**
 * RFC 6455 framing, server side only (frames from clients are masked, frames to clients are not).
 * Pure: no sockets. The parser is fed raw bytes in any split and reports whole messages and
 * control frames to a sink; the encoders build unmasked server frames. No extensions (Holdfast
 * never negotiates permessage-deflate), so any RSV bit is a protocol error.
 */

export const Opcodes = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/**
 * Fragments one data message may have. A fragment costs a frame header however little it carries
 * (a zero-length one carries nothing), so without a count a message that never ends would be read
 * for ever; past this the connection is closed with 1009. Clients that fragment at all (browsers
 * never do) cut at a few KiB, well inside maxFrameBytes / MAX_FRAGMENTS at the default limit.
 */
export const MAX_FRAGMENTS = 128;

/** Limits of one parser; one object shared by every connection of a server. */
export interface FrameLimits {
  /** Largest data message, all of its fragments together (close 1009 past it). */
  readonly maxPayload: number;
  /** Most fragments of one data message (close 1009 past it); MAX_FRAGMENTS unless a test says. */
  readonly maxFragments: number;
}

export interface FrameSink {
  /**
   * Every frame, once its header has arrived (before its payload): false refuses it. A refused
   * ping or pong is not reported; a refused data frame drops its whole message (the rest of its
   * fragments are read and not kept, then onDropped); a close frame is honoured whatever this says.
   */
  onFrame(opcode: number): boolean;
  /** A whole data message (fragments joined, text already checked to be UTF-8). */
  onMessage(payload: Buffer, binary: boolean): void;
  /** A data message with a refused frame ended; it was not kept. */
  onDropped(): void;
  onPing(payload: Buffer): void;
  onPong(payload: Buffer): void;
  /** The peer's close frame; code NO_STATUS (1005) when it carried none. */
  onCloseFrame(code: number, reason: string): void;
  /**
   * The input broke the protocol: answer with a close of `reason.code` and `message` (which names
   * the fault); no more frames are reported.
   */
  onProtocolError(reason: Disconnect, message: string): void;
}

/** Codes a peer may put in a close frame (RFC 6455 7.4; 1004-1006 and 1015 are reserved). */
export function isValidCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

const HEADER = 0;
const PAYLOAD = 1;
/** The payload of a frame the sink refused: counted as it arrives, never kept. */
const SKIP = 2;
const FAILED = 3;

/** Longest frame header: 2 bytes, a 64-bit length, the mask. */
const MAX_HEADER = 14;
/** First size of the buffer of a payload split over reads (or the payload's length if smaller). */
const MIN_PARTIAL = 1024;

/** Bytes of a header from its second byte (the 7-bit length says which length form follows). */
function headerSize(b1: number): number {
  const len7 = b1 & 0x7f;
  return len7 === 126 ? 8 : len7 === 127 ? MAX_HEADER : 6;
}

/**
 * Incremental frame parser for one connection. Idle cost is this object's fields: buffers exist
 * only while a frame is incomplete. Whatever the split of the input, it holds no received chunk:
 * a frame whole inside one chunk is read there (its payload is a view of the chunk), and the bytes
 * of a frame split over reads are copied as they arrive into one buffer per part (the header's,
 * 14 bytes at most; the payload's, grown by doubling up to its declared length, which the header
 * check bounds by maxPayload), so what it holds follows the bytes received, whatever the number of
 * reads they took. A refused frame's payload is counted and dropped as it arrives.
 */
export class FrameParser<L extends FrameLimits = FrameLimits> {
  /** Shared, not copied: the connection reads its own limits here too. */
  readonly limits: L;
  /** A header split over reads: its bytes so far (null when none) and how many. */
  #head: Buffer | null = null;
  #headLength = 0;
  /** A payload split over reads: its bytes so far, still masked (null when none or refused). */
  #payload: Buffer | null = null;
  /** Payload bytes of the current frame received so far (kept or, when refused, skipped). */
  #received = 0;
  #state = HEADER;
  #fin = false;
  #opcode = 0;
  #mask = 0;
  #length = 0;
  /**
   * The data message being fragmented: its opcode (0 when none), its fragments so far, whether
   * one of them was refused, and its bytes, copied into one buffer that grows by doubling (a
   * view of each received chunk would pin the whole chunk for the life of the message).
   */
  #fragOpcode = 0;
  #fragCount = 0;
  #fragRefused = false;
  #message: Buffer | null = null;
  #fragLength = 0;

  constructor(limits: L) {
    this.limits = limits;
  }

  /** Bytes held for the peer's unfinished input: a split header or payload, and the message so far. */
  get bufferedBytes(): number {
    return (this.#head?.length ?? 0) + (this.#payload?.length ?? 0) + (this.#message?.length ?? 0);
  }

  /**
   * Feeds received bytes. A payload whole inside `chunk` is unmasked in place and reported as a
   * view of it (no copy): `chunk` is modified and may be kept by the sink, never by the parser.
   */
  push(chunk: Buffer, sink: FrameSink): void {
    const n = chunk.length;
    if (this.#state === FAILED || n === 0) return;
    let at = 0;
    for (;;) {
      const state = this.#state;
      if (state === HEADER) {
        if (at === n) return;
        if (this.#head === null && n - at >= 2) {
          const size = headerSize(chunk[at + 1]!);
          if (n - at >= size) {
            // The common case: the whole header in this chunk.
            if (!this.#checkStart(chunk[at]!, chunk[at + 1]!, sink)) return;
            if (!this.#readHeader(chunk, at, sink)) return;
            at += size;
            continue;
          }
        }
        at = this.#gatherHeader(chunk, at, sink);
      } else if (state === PAYLOAD) {
        const length = this.#length;
        if (this.#payload === null && n - at >= length) {
          // The common case: the whole payload in this chunk.
          const payload = length === 0 ? EMPTY : chunk.subarray(at, at + length);
          at += length;
          this.#state = HEADER;
          unmask(payload, this.#mask);
          this.#dispatch(payload, sink);
          continue;
        }
        if (at === n) return;
        const received = this.#received;
        const k = Math.min(length - received, n - at);
        const buf = this.#partial(received + k);
        chunk.copy(buf, received, at, at + k);
        at += k;
        this.#received = received + k;
        if (received + k < length) return;
        this.#payload = null;
        this.#received = 0;
        this.#state = HEADER;
        // Whole (#partial never grows it past the length), unmasked from its first byte: the
        // mask's phase runs on across the reads.
        unmask(buf, this.#mask);
        this.#dispatch(buf, sink);
      } else if (state === SKIP) {
        const k = Math.min(this.#length - this.#received, n - at);
        at += k;
        this.#received += k;
        if (this.#received < this.#length) return;
        this.#received = 0;
        this.#state = HEADER;
        this.#skip(sink);
      } else return;
    }
  }

  #fail(sink: FrameSink, reason: Disconnect, message: string): false {
    this.#state = FAILED;
    this.#head = null;
    this.#payload = null;
    this.#message = null;
    sink.onProtocolError(reason, message);
    return false;
  }

  /**
   * Copies header bytes from `chunk` at `at` until the header is whole (then reads it) or the
   * chunk ends (then keeps them); returns the offset after the bytes used. The first two bytes
   * are checked as soon as they are in, before waiting for the rest.
   */
  #gatherHeader(chunk: Buffer, at: number, sink: FrameSink): number {
    const n = chunk.length;
    let head = this.#head;
    if (head === null) this.#head = head = Buffer.allocUnsafeSlow(MAX_HEADER); // not a slice of the pool
    let have = this.#headLength;
    while (at < n) {
      const need = have < 2 ? 2 : headerSize(head[1]!);
      const k = Math.min(need - have, n - at);
      chunk.copy(head, have, at, at + k);
      have += k;
      at += k;
      if (have < need) break;
      if (need === 2) {
        if (!this.#checkStart(head[0]!, head[1]!, sink)) return n;
        continue;
      }
      this.#head = null;
      this.#headLength = 0;
      this.#readHeader(head, 0, sink);
      return at;
    }
    this.#headLength = have;
    return at;
  }

  /** Checks what a header's first two bytes already show; false on failure. */
  #checkStart(b0: number, b1: number, sink: FrameSink): boolean {
    if ((b0 & 0x70) !== 0) return this.#fail(sink, Disconnects.protocolError, 'RSV bits must be clear');
    if ((b1 & 0x80) === 0) return this.#fail(sink, Disconnects.protocolError, 'client frames must be masked');
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    if (opcode >= 0x8) {
      if (opcode > 0xa) return this.#fail(sink, Disconnects.protocolError, `unknown opcode ${opcode}`);
      if (!fin) return this.#fail(sink, Disconnects.protocolError, 'control frames must not be fragmented');
      if ((b1 & 0x7f) > 125)
        return this.#fail(sink, Disconnects.protocolError, 'control frame payload over 125 bytes');
    } else if (opcode === Opcodes.continuation) {
      if (this.#fragOpcode === 0)
        return this.#fail(sink, Disconnects.protocolError, 'continuation without a start');
    } else if (opcode === Opcodes.text || opcode === Opcodes.binary) {
      if (this.#fragOpcode !== 0)
        return this.#fail(sink, Disconnects.protocolError, 'new message inside a fragmented one');
    } else {
      return this.#fail(sink, Disconnects.protocolError, `unknown opcode ${opcode}`);
    }
    return true;
  }

  /**
   * Reads a whole header, already checked by #checkStart, at `at` in `head`; false on failure.
   * The declared length is checked against maxPayload here, before any of the payload's bytes
   * (and so any buffer for them) is taken.
   */
  #readHeader(head: Buffer, at: number, sink: FrameSink): boolean {
    const b0 = head[at]!;
    const len7 = head[at + 1]! & 0x7f;
    const extra = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    let length = len7;
    if (len7 === 126) length = head.readUInt16BE(at + 2);
    else if (len7 === 127) {
      const high = head.readUInt32BE(at + 2);
      if (high >= 0x200000) return this.#fail(sink, Disconnects.protocolError, 'payload length over 2^53');
      length = high * 0x100000000 + head.readUInt32BE(at + 6);
    }
    if (opcode < 0x8) {
      if (this.#fragLength + length > this.limits.maxPayload)
        return this.#fail(sink, Disconnects.messageTooBig, 'message too big');
      if ((!fin || this.#fragOpcode !== 0) && ++this.#fragCount > this.limits.maxFragments)
        return this.#fail(sink, Disconnects.messageTooBig, 'too many fragments');
    }
    // Close frames are honoured even when refused: they end the input.
    const refused = !sink.onFrame(opcode) && opcode !== Opcodes.close;
    this.#fin = fin;
    this.#opcode = opcode;
    this.#mask = head.readUInt32BE(at + 2 + extra);
    this.#length = length;
    this.#received = 0;
    this.#state = refused ? SKIP : PAYLOAD;
    return true;
  }

  /**
   * The buffer of the payload split over reads, with room for `need` bytes: grown by doubling
   * as they arrive (from MIN_PARTIAL), never past the declared length, so a header declaring a
   * large payload costs nothing until that payload's bytes come.
   */
  #partial(need: number): Buffer {
    const buf = this.#payload;
    if (buf !== null && need <= buf.length) return buf;
    const size = Math.min(this.#length, Math.max(need, MIN_PARTIAL, (buf?.length ?? 0) * 2));
    // Not from the shared pool: a slice of it would pin a whole pool slab (Buffer.poolSize) for as long as it is held.
    const grown = Buffer.allocUnsafeSlow(size);
    if (buf !== null) buf.copy(grown, 0, 0, this.#received);
    this.#payload = grown;
    return grown;
  }

  #dispatch(payload: Buffer, sink: FrameSink): void {
    const opcode = this.#opcode;
    switch (opcode) {
      case Opcodes.ping:
        sink.onPing(payload);
        return;
      case Opcodes.pong:
        sink.onPong(payload);
        return;
      case Opcodes.close: {
        if (payload.length === 0) {
          this.#state = FAILED; // nothing may follow a close frame
          sink.onCloseFrame(NO_STATUS, '');
          return;
        }
        if (payload.length === 1) {
          this.#fail(sink, Disconnects.protocolError, 'close frame payload of 1 byte');
          return;
        }
        const code = payload.readUInt16BE(0);
        if (!isValidCloseCode(code)) {
          this.#fail(sink, Disconnects.protocolError, `invalid close code ${code}`);
          return;
        }
        const reason = payload.subarray(2);
        if (!isUtf8(reason)) {
          this.#fail(sink, Disconnects.invalidPayload, 'close reason is not UTF-8');
          return;
        }
        this.#state = FAILED;
        sink.onCloseFrame(code, reason.toString());
        return;
      }
    }
    // Data frames.
    if (opcode !== Opcodes.continuation) this.#fragOpcode = opcode;
    let message = payload;
    if (!this.#fin || this.#fragCount > 0) {
      if (!this.#fragRefused) this.#append(payload);
      else this.#fragLength += payload.length;
      if (!this.#fin) return;
      message = this.#message === null ? EMPTY : this.#message.subarray(0, this.#fragLength);
    }
    const binary = this.#fragOpcode === Opcodes.binary;
    const dropped = this.#fragRefused;
    this.#endMessage();
    if (dropped) {
      sink.onDropped();
      return;
    }
    if (!binary && !isUtf8(message)) {
      this.#fail(sink, Disconnects.invalidPayload, 'text message is not UTF-8');
      return;
    }
    sink.onMessage(message, binary);
  }

  /** A refused frame's payload has been read: forget it, keeping the message's state. */
  #skip(sink: FrameSink): void {
    const opcode = this.#opcode;
    if (opcode >= 0x8) return;
    if (opcode !== Opcodes.continuation) this.#fragOpcode = opcode;
    this.#fragLength += this.#length;
    this.#fragRefused = true;
    this.#message = null;
    if (!this.#fin) return;
    this.#endMessage();
    sink.onDropped();
  }

  /** Copies a fragment's payload to the end of the message. */
  #append(payload: Buffer): void {
    const n = payload.length;
    const at = this.#fragLength;
    this.#fragLength = at + n;
    if (n === 0) return;
    let buf = this.#message;
    if (buf === null || at + n > buf.length) {
      const size = Math.min(this.limits.maxPayload, Math.max(at + n, (buf?.length ?? 128) * 2));
      const grown = Buffer.allocUnsafe(size);
      if (buf !== null) buf.copy(grown, 0, 0, at);
      this.#message = buf = grown;
    }
    payload.copy(buf, at);
  }

  #endMessage(): void {
    this.#fragOpcode = 0;
    this.#fragCount = 0;
    this.#fragRefused = false;
    this.#message = null;
    this.#fragLength = 0;
  }
}

const EMPTY = Buffer.alloc(0);

function unmask(payload: Buffer, mask: number): void {
  if (mask === 0) return;
  const m0 = mask >>> 24;
  const m1 = (mask >>> 16) & 0xff;
  const m2 = (mask >>> 8) & 0xff;
  const m3 = mask & 0xff;
  const n = payload.length;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    payload[i] = payload[i]! ^ m0;
    payload[i + 1] = payload[i + 1]! ^ m1;
    payload[i + 2] = payload[i + 2]! ^ m2;
    payload[i + 3] = payload[i + 3]! ^ m3;
  }
  const tail = [m0, m1, m2];
  for (let j = 0; i < n; i++, j++) payload[i] = payload[i]! ^ tail[j]!;
}

/** One unmasked server frame (header and payload in one Buffer, ready to be shared by many writes). */
export function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const headLen = n < 126 ? 2 : n < 0x10000 ? 4 : 10;
  const out = Buffer.allocUnsafe(headLen + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = n;
  else if (n < 0x10000) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(n / 0x100000000), 2);
    out.writeUInt32BE(n >>> 0, 6);
  }
  payload.copy(out, headLen);
  return out;
}

/** A close frame's payload: the code and a reason cut to fit 123 bytes. */
export function encodeClose(code: number, reason = ''): Buffer {
  let r = Buffer.from(reason);
  if (r.length > 123) r = r.subarray(0, 123);
  const payload = Buffer.allocUnsafe(2 + r.length);
  payload.writeUInt16BE(code, 0);
  r.copy(payload, 2);
  return encodeFrame(Opcodes.close, payload);
}
