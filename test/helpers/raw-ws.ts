import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * A bare WebSocket client over node:net: the handshake and masked text frames, nothing else.
 * It lets a test stop reading (`pause()`) as a stalled or dead peer would.
 */
export class RawWs {
  readonly socket: Socket;
  closed = false;
  readonly ended: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.ended = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        resolve();
      }),
    );
  }

  static open(port: number, path = '/ws'): Promise<RawWs> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      const key = randomBytes(16).toString('base64');
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        socket.off('data', onData);
        const status = head.subarray(0, head.indexOf('\r\n')).toString();
        if (!status.includes(' 101 ')) {
          socket.destroy();
          reject(new Error(status));
          return;
        }
        resolve(new RawWs(socket));
      };
      socket.on('data', onData);
    });
  }

  /** One masked text frame (client frames must be masked). */
  static frame(payload: Buffer, opcode = 0x1): Buffer {
    const mask = randomBytes(4);
    const len = payload.length;
    const header = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    if (len < 126) header[1] = 0x80 | len;
    else if (len < 65536) {
      header[1] = 0x80 | 126;
      header.writeUInt16BE(len, 2);
    } else {
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(BigInt(len), 2);
    }
    const body = Buffer.alloc(len);
    for (let i = 0; i < len; i++) body[i] = payload[i]! ^ mask[i & 3]!;
    return Buffer.concat([header, mask, body]);
  }

  send(msg: unknown): void {
    this.socket.write(RawWs.frame(Buffer.from(JSON.stringify(msg))));
  }

  /** Stop reading: the kernel buffers fill, then the server's send queue grows; pongs stop. */
  pause(): void {
    this.socket.pause();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
