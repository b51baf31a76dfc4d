import { type Disconnect, Disconnects } from '../../contract/codes.js';
import type { Encoded, PresenceBatch } from '../../core/encode.js';
import { Session, type Transport } from '../../core/session.js';
import type { Expirable } from '../../core/wheel.js';
import type { WsConnection } from './conn.js';
import { encodeFrame, Opcodes } from './frame.js';

/** Bytes to a WebSocket, as text messages. A slow consumer is cut at once: its queue would never drain. */
export class WsTransport implements Transport {
  readonly #ws: WsConnection;

  constructor(ws: WsConnection) {
    this.#ws = ws;
  }

  write(bytes: Buffer): void {
    this.#ws.send(bytes);
  }

  /** A whole frame, already encoded. */
  writeFrame(frame: Buffer): void {
    this.#ws.sendFrame(frame);
  }

  queuedBytes(): number {
    return this.#ws.bufferedAmount;
  }

  close(reason: Disconnect): void {
    if (reason.code === Disconnects.slow.code || reason.code === Disconnects.noPong.code)
      this.#ws.terminate();
    else this.#ws.close(reason.code, reason.reason);
  }
}

/**
 * The frame of the publication delivered last. A publication reaches every local subscriber in
 * one loop, so this one-entry cache frames it once for all of them (encode once, write many).
 */
let lastEncoded: Encoded | null = null;
let lastFrame: Buffer = Buffer.alloc(0);

function frameOf(enc: Encoded): Buffer {
  if (enc !== lastEncoded) {
    lastFrame = encodeFrame(Opcodes.text, enc.ws);
    lastEncoded = enc;
  }
  return lastFrame;
}

/**
 * The same one-entry cache for presence pushes (a batch reaches every follower in one loop):
 * one text frame per event, back to back in one buffer, so one write per follower.
 */
let lastPresence: PresenceBatch | null = null;
let lastPresenceFrames: Buffer = Buffer.alloc(0);

function presenceFramesOf(batch: PresenceBatch): Buffer {
  if (batch !== lastPresence) {
    const events = batch.events;
    lastPresenceFrames =
      events.length === 1
        ? encodeFrame(Opcodes.text, events[0]!.ws)
        : Buffer.concat(events.map((e) => encodeFrame(Opcodes.text, e.ws)));
    lastPresence = batch;
  }
  return lastPresenceFrames;
}

/**
 * The frames a client may send (a rate limit per connection). Given by whoever builds the
 * server (server/admission.ts's FrameBudget), so transports do not depend on the server.
 */
export interface FrameLimit {
  readonly perSecond: number;
  /** Frames refused since the last one allowed. */
  readonly violations: number;
  /** False when this frame is over the limit. */
  take(now?: number): boolean;
}

export class WsSession extends Session implements Expirable {
  readonly ws: WsConnection;
  /** Cleared by each ping sweep, set by any frame or pong from the peer. */
  alive = true;
  /** Frames this client may still send (rate limit). */
  readonly budget: FrameLimit;
  /** Expirable (TimerWheel's record). */
  wheelTick = 0;
  /** Client publications this connection may still make (clientPublishPerSecond): made on its first. */
  publishLimit: FrameLimit | null = null;

  constructor(ws: WsConnection, maxQueuedBytes: number, budget: FrameLimit) {
    super(new WsTransport(ws), maxQueuedBytes);
    this.ws = ws;
    this.budget = budget;
  }

  /** The idle deadline (no subscription for too long) has passed. */
  expire(): void {
    if (this.subscriptions.size === 0) this.close(Disconnects.idle);
  }

  protected emit(enc: Encoded): void {
    const frame = frameOf(enc);
    if (this.owner !== null) this.owner.stats.bytesOut += frame.length;
    (this.transport as WsTransport).writeFrame(frame);
  }

  protected override emitPresence(batch: PresenceBatch): void {
    const frame = presenceFramesOf(batch);
    if (this.owner !== null) this.owner.stats.bytesOut += frame.length;
    (this.transport as WsTransport).writeFrame(frame);
  }

  /** POST /api/subscribe and /api/unsubscribe reach WebSocket clients as pushes. */
  override get takesServerSubscribe(): boolean {
    return true;
  }

  override get takesServerUnsubscribe(): boolean {
    return true;
  }

  /** `{"op": "subscribe", "channel", "epoch", "offset"}`, before the channel's first message. */
  override serverSubscribed(channel: string, epoch: string, offset: number): void {
    this.reply({ op: 'subscribe', channel, epoch, offset });
  }

  /**
   * `{"op": "unsubscribe", "channel"}`: no message of the channel follows. Left with no
   * subscription, the connection's idle deadline starts, as after the client's own unsubscribe.
   */
  override serverUnsubscribed(channel: string): void {
    this.reply({ op: 'unsubscribe', channel });
    if (this.subscriptions.size === 0 && !this.closed) this.ws.idle();
  }

  /** Sends a reply or control message (JSON). */
  reply(msg: unknown): void {
    if (!this.closed) this.write(Buffer.from(JSON.stringify(msg)));
  }
}
