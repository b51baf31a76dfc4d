import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** One WebSocket frame as bytes, with every field under the caller's control (RFC 6455 5.2). */
export interface FrameSpec {
  fin?: boolean;
  /** RSV1-3 as a 3-bit number. */
  rsv?: number;
  opcode: number;
  payload: Buffer;
  /** Masking key; null sends an unmasked frame (a protocol error from a client). */
  mask?: Buffer | null;
  /** Declared payload length, when it should differ from the payload's. */
  length?: number | bigint;
  /** Length encoding: 7-bit, 16-bit or 64-bit (default: the shortest). */
  lengthForm?: 7 | 16 | 64;
}

export function encodeFrame(f: FrameSpec): Buffer {
  const mask = f.mask === undefined ? randomBytes(4) : f.mask;
  const len = BigInt(f.length ?? f.payload.length);
  const form = f.lengthForm ?? (len < 126n ? 7 : len < 65536n ? 16 : 64);
  const head: number[] = [((f.fin ?? true) ? 0x80 : 0) | (((f.rsv ?? 0) & 7) << 4) | (f.opcode & 0x0f)];
  const m = mask === null ? 0 : 0x80;
  let ext = Buffer.alloc(0);
  if (form === 7) head.push(m | Number(len & 0x7fn));
  else if (form === 16) {
    head.push(m | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(Number(len & 0xffffn));
  } else {
    head.push(m | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(len & 0xffffffffffffffffn);
  }
  let payload = f.payload;
  if (mask !== null) {
    payload = Buffer.from(f.payload);
    for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ mask[i & 3]!;
  }
  return Buffer.concat([Buffer.from(head), ext, mask ?? Buffer.alloc(0), payload]);
}

export const text = (s: string | Buffer, extra: Partial<FrameSpec> = {}): Buffer =>
  encodeFrame({ opcode: 1, payload: Buffer.isBuffer(s) ? s : Buffer.from(s), ...extra });

export function closePayload(code: number, reason = ''): Buffer {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code & 0xffff);
  b.write(reason, 2);
  return b;
}

/**
 * A WebSocket client over a raw TCP socket: the upgrade is written by hand and frames from the
 * server are parsed here, so the fuzzer can send anything at all.
 */
export class RawWs {
  readonly socket: Socket;
  readonly texts: string[] = [];
  /** Payloads of the pongs from the server. */
  readonly pongs: string[] = [];
  /** Close code from the server's close frame (1005 when it had no body); null if none came. */
  closeCode: number | null = null;
  closeReason = '';
  /** Anything wrong in what the server sent (not a fault of the fuzzer's input). */
  readonly faults: string[] = [];
  ended = false;
  readonly endedPromise: Promise<void>;
  #buf: Buffer = Buffer.alloc(0);
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    this.endedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.ended = true;
        this.#wake();
        resolve();
      });
    });
    socket.on('error', () => {});
  }

  /**
   * Opens /ws and completes the handshake; rejects if the server does not answer 101. `early`
   * bytes go in the same write as the upgrade request, before the answer.
   */
  static async open(port: number, timeoutMs = 5000, early?: Buffer): Promise<RawWs> {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    const ws = new RawWs(socket);
    const key = randomBytes(16).toString('base64');
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n` +
        (early?.toString('latin1') ?? ''),
      'latin1',
    );
    await new Promise<void>((resolve, reject) => {
      let head = Buffer.alloc(0);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('handshake timed out'));
      }, timeoutMs);
      const onData = (d: Buffer): void => {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        clearTimeout(timer);
        const status = head.subarray(0, end).toString('latin1').split('\r\n')[0] ?? '';
        if (!status.startsWith('HTTP/1.1 101')) {
          socket.destroy();
          reject(new Error(`handshake answered: ${status}`));
          return;
        }
        socket.on('data', (c: Buffer) => ws.#onData(c));
        const rest = head.subarray(end + 4);
        if (rest.length > 0) ws.#onData(rest);
        resolve();
      };
      socket.on('data', onData);
      socket.once('close', () => {
        clearTimeout(timer);
        reject(new Error('closed during handshake'));
      });
    });
    return ws;
  }

  send(bytes: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  /** Resolves when `pred` holds or the connection ends; false on timeout. */
  async waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (this.ended) return pred();
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  destroy(): void {
    this.socket.destroy();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  #onData(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    for (;;) {
      const b = this.#buf;
      if (b.length < 2) break;
      const opcode = b[0]! & 0x0f;
      if ((b[1]! & 0x80) !== 0) this.faults.push('server sent a masked frame');
      let len = b[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        len = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      if (b.length < at + len) break;
      const payload = b.subarray(at, at + len);
      this.#buf = b.subarray(at + len);
      if ((b[0]! & 0x80) === 0 || opcode === 0) this.faults.push('server sent a fragmented frame');
      if (opcode === 1) this.texts.push(payload.toString('utf8'));
      else if (opcode === 8) {
        if (this.closeCode !== null) this.faults.push('server sent two close frames');
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.closeReason = payload.subarray(2).toString('utf8');
      } else if (opcode === 10) this.pongs.push(payload.toString('utf8'));
      else if (opcode !== 9) this.faults.push(`server sent opcode ${opcode}`);
    }
    this.#wake();
  }
}
