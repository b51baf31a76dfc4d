import { fill } from '../options.js';
import { lastSub, type Pool, resetLastSub } from '../pool.js';
import { RawHttpClient } from './raw.js';
import {
  clientFrame,
  FrameReader,
  type FrameSink,
  handshakeKey,
  OP_BINARY,
  OP_CLOSE,
  OP_PING,
  OP_PONG,
  OP_TEXT,
} from './ws-frames.js';

/**
 * A WebSocket client on a raw socket, lighter per idle connection than the `ws` package's client
 * (bench/client-memory.ts: docs/BENCHMARKS.md, "The bench's own memory per idle client").
 * Holdfast protocol: subscribes to its two channels with ids 1 and 2 and, after a reconnect,
 * resumes each from the last (epoch, offset) it saw. Generic protocol: sends the configured
 * frames (if any) after the handshake and counts the subscriptions from then. Answers pings; a
 * close frame ends the connection and the client reconnects. ws:// only (the bench targets
 * plain servers).
 */
export class WsClient extends RawHttpClient implements FrameSink {
  readonly frames = new FrameReader();
  epochs: string[] = ['', ''];
  offsets: number[] = [-1, -1];

  constructor(pool: Pool, local: number, channel: number, source: string) {
    super(pool, local, channel, source);
  }

  target(): URL {
    const plan = this.pool.plan;
    return new URL(
      fill(plan.wsUrl, {
        channel: encodeURIComponent(plan.channelNames[this.channel]!),
        broadcast: encodeURIComponent(plan.channelNames[plan.channels]!),
      }),
    );
  }

  extraHeaders(): string {
    return (
      'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
      `Sec-WebSocket-Key: ${handshakeKey()}\r\n`
    );
  }

  onConnected(): void {
    this.request();
  }

  onHead(status: number): void {
    if (status !== 101) {
      this.fail();
      return;
    }
    this.frames.reset();
    this.socket?.setTimeout(0);
    this.opened();
    this.subscribe();
  }

  /** After the 101 answer the reader passes every byte here: WebSocket frames. */
  onBody(text: string): void {
    try {
      this.frames.feed(text, this);
    } catch {
      this.pool.errors++;
      this.fail();
    }
  }

  onEnd(): void {
    // Only reached when the socket closes; the close handler does the accounting.
  }

  onFrame(opcode: number, payload: string): void {
    switch (opcode) {
      case OP_PING:
        this.socket?.write(clientFrame(OP_PONG, Buffer.from(payload, 'latin1')));
        return;
      case OP_PONG:
        return;
      case OP_CLOSE: {
        const s = this.socket;
        s?.write(clientFrame(OP_CLOSE, Buffer.from(payload.slice(0, 2), 'latin1')));
        s?.end();
        this.socket = null;
        this.lost(false);
        return;
      }
      default:
        // Latin1 as read: markers are ASCII; replies are decoded as UTF-8 before parsing.
        if (opcode === OP_TEXT || opcode === OP_BINARY) this.onText(payload);
    }
  }

  send(text: string): void {
    this.socket?.write(clientFrame(OP_TEXT, text));
  }

  subscribe(): void {
    const plan = this.pool.plan;
    const tmpl = plan.subscribeMessage;
    if (tmpl !== '') {
      const names = [plan.channelNames[this.channel]!, plan.channelNames[plan.channels]!];
      for (let k = 0; k < 2; k++) {
        let frame = fill(tmpl, { channel: names[k]!, id: String(k + 1) });
        if (plan.protocol === 'holdfast' && this.offsets[k]! >= 0) {
          frame =
            frame.slice(0, -1) +
            `,"since":{"epoch":${JSON.stringify(this.epochs[k])},"offset":${this.offsets[k]}}}`;
        }
        this.send(frame);
      }
    }
    // Generic servers do not acknowledge: the subscriptions count from now.
    if (tmpl === '' || plan.protocol === 'generic') {
      this.confirmed(this.local * 2);
      this.confirmed(this.local * 2 + 1);
    }
  }

  onText(text: string): void {
    if (this.pool.plan.protocol === 'generic' || text.startsWith('{"op":"message"')) {
      resetLastSub();
      this.scan(text);
      if (lastSub >= 0 && this.pool.plan.protocol === 'holdfast') {
        const at = text.indexOf('"offset":');
        if (at !== -1) {
          const off = Number.parseInt(text.slice(at + 9, at + 26), 10);
          const k = lastSub & 1;
          if (off > this.offsets[k]!) this.offsets[k] = off;
        }
      }
      return;
    }
    let reply: { id?: unknown; ok?: boolean; epoch?: string; offset?: number; recovered?: boolean };
    try {
      reply = JSON.parse(Buffer.from(text, 'latin1').toString());
    } catch {
      this.pool.errors++;
      return;
    }
    const k: number = reply.id === 1 ? 0 : reply.id === 2 ? 1 : -1;
    if (k < 0) {
      if (this.scan(text) === -1 && text.includes('"error"')) this.pool.errors++;
      return;
    }
    if (reply.ok !== true) {
      this.pool.errors++;
      return;
    }
    if (reply.recovered === false) this.pool.recoveryFailures++;
    if (typeof reply.epoch === 'string' && reply.epoch !== this.epochs[k]) {
      this.epochs[k] = reply.epoch;
      this.offsets[k] = typeof reply.offset === 'number' ? reply.offset : -1;
    } else if (this.offsets[k]! < 0 && typeof reply.offset === 'number') {
      this.offsets[k] = reply.offset;
    }
    this.confirmed(this.local * 2 + k);
  }
}
