import type { WebSocket } from 'ws';
import { type Disconnect, Disconnects } from '../../core/codes.js';
import type { Encoded } from '../../core/encode.js';
import { Session, type Transport } from '../../core/session.js';
import type { Expirable } from '../../core/wheel.js';
import { FrameBudget } from '../../server/admission.js';

/** Bytes to a `ws` socket. A slow consumer is cut at once: its queue would never drain. */
export class WsTransport implements Transport {
  readonly #ws: WebSocket;

  constructor(ws: WebSocket) {
    this.#ws = ws;
  }

  write(bytes: Buffer): void {
    if (this.#ws.readyState === 1) this.#ws.send(bytes, { binary: false });
  }

  queuedBytes(): number {
    return this.#ws.bufferedAmount;
  }

  close(reason: Disconnect): void {
    if (reason.code === 3001 || reason.code === 3002) this.#ws.terminate();
    else this.#ws.close(reason.code, reason.reason);
  }
}

export class WsSession extends Session implements Expirable {
  readonly ws: WebSocket;
  /** Cleared by each ping sweep, set by any frame or pong from the peer. */
  alive = true;
  /** Frames this client may still send (rate limit). */
  readonly budget: FrameBudget;

  constructor(ws: WebSocket, maxQueuedBytes: number, framesPerSecond: number) {
    super(new WsTransport(ws), maxQueuedBytes);
    this.ws = ws;
    this.budget = new FrameBudget(framesPerSecond);
  }

  /** The idle deadline (no subscription for too long) has passed. */
  expire(): void {
    if (this.subscriptions.size === 0) this.close(Disconnects.idle);
  }

  protected emit(enc: Encoded): void {
    this.write(enc.ws);
  }

  /** Sends a reply or control message (JSON). */
  reply(msg: unknown): void {
    if (!this.closed) this.write(Buffer.from(JSON.stringify(msg)));
  }
}
