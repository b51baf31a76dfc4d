import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type Disconnect, NO_STATUS } from '../../contract/codes.js';
import { encodeClose, encodeFrame, type FrameLimits, FrameParser, type FrameSink, Opcodes } from './frame.js';

/** What a WebSocket connection reports; one object (the server) serves every connection. */
export interface WsHandler {
  /** Each frame from the peer, as it starts; false refuses it (FrameSink.onFrame). */
  onFrame(conn: WsConnection): boolean;
  onMessage(conn: WsConnection, payload: Buffer, binary: boolean): void;
  /** A message was dropped because one of its frames was refused. */
  onDropped(conn: WsConnection): void;
  onPong(conn: WsConnection): void;
  /** A write of the connection's own left more than maxQueuedBytes waiting: end it as slow. */
  onSlow(conn: WsConnection): void;
  /** Once, when the socket is gone (whoever closed it). */
  onClose(conn: WsConnection): void;
  /** The session was left with no subscription by the server (not by a frame): its idle deadline starts. */
  onIdle?(conn: WsConnection): void;
}

export const ReadyStates = { open: 1, closing: 2, closed: 3 } as const;

/** Limits of a connection; one object shared by every connection of a server. */
export interface WsLimits extends FrameLimits {
  /** Bytes that may wait in the socket after one of the connection's writes (see send()). */
  readonly maxQueuedBytes: number;
}

const EMPTY = Buffer.alloc(0);
/** #pong's mark for "written, not flushed, nothing held"; never written. */
const IN_FLIGHT = Buffer.alloc(0);
const PING = encodeFrame(Opcodes.ping, Buffer.alloc(0));
/** Grace for the peer to answer our close frame before the socket is destroyed. */
const CLOSE_GRACE_MS = 5000;

/**
 * One WebSocket over an upgraded socket (replaces `ws`'s WebSocket, Receiver and Sender: their
 * streams and per-connection emitters were most of an idle connection's heap: docs/BENCHMARKS.md,
 * "Memory per idle connection"). Its only per-connection objects are this,
 * the frame parser and the socket. Socket listeners are module-level functions that find their
 * connection through one WeakMap, so a connection holds no closures.
 */
export class WsConnection implements FrameSink {
  readonly socket: Duplex;
  readonly #handler: WsHandler;
  readonly #parser: FrameParser<WsLimits>;
  readyState: number = ReadyStates.open;
  /** The session using this connection (set once by the server). */
  owner: unknown = null;
  /**
   * Pongs: null when none waits in the socket's queue; IN_FLIGHT when one was written and is not
   * flushed yet (its write callback has not run); else that, and this frame answering the latest
   * ping since, held back.
   */
  #pong: Buffer | null = null;

  constructor(socket: Duplex, handler: WsHandler, limits: WsLimits) {
    this.socket = socket;
    this.#handler = handler;
    this.#parser = new FrameParser(limits);
  }

  /** Wires the socket (after the 101 was written) and feeds bytes that came with the upgrade. */
  start(head: Buffer): void {
    const socket = this.socket;
    connections.set(socket, this);
    if (socket instanceof Socket) {
      socket.setTimeout(0);
      socket.setNoDelay(true);
    }
    socket.on('data', onData);
    socket.on('close', onSocketClose);
    socket.on('error', onSocketError);
    socket.on('end', onSocketEnd);
    socket.on('timeout', onSocketTimeout);
    if (head.length > 0) this.#parser.push(head, this);
  }

  /** Bytes written and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  /** Bytes held for the peer's unfinished input (a frame or fragmented message under way). */
  get receiveBuffered(): number {
    return this.#parser.bufferedBytes;
  }

  /**
   * A text message (a reply or an error). Like every write of the connection's own (pongs too),
   * it is followed by the send queue's check: a peer that sends and never reads would otherwise
   * grow it without limit.
   */
  send(text: Buffer): void {
    if (this.readyState !== ReadyStates.open) return;
    this.socket.write(encodeFrame(Opcodes.text, text));
    if (this.socket.writableLength > this.#parser.limits.maxQueuedBytes) this.#handler.onSlow(this);
  }

  /**
   * A whole frame from encodeFrame, e.g. one publication's frame shared by every subscriber. No
   * queue check here: the session checks after each publication (core/session.ts).
   */
  sendFrame(frame: Buffer): void {
    if (this.readyState === ReadyStates.open) this.socket.write(frame);
  }

  /** Tells the handler the connection's session follows nothing any more (WsHandler.onIdle). */
  idle(): void {
    this.#handler.onIdle?.(this);
  }

  ping(): void {
    if (this.readyState === ReadyStates.open) this.socket.write(PING);
  }

  /** Starts the closing handshake; the socket ends when the peer answers, or after a grace period. */
  close(code: number, reason = ''): void {
    if (this.readyState !== ReadyStates.open) return;
    this.readyState = ReadyStates.closing;
    this.socket.write(encodeClose(code, reason));
    this.socket.end();
    if (this.socket instanceof Socket) this.socket.setTimeout(CLOSE_GRACE_MS);
  }

  /** Destroys the socket at once (no close frame). */
  terminate(): void {
    if (this.readyState === ReadyStates.closed) return;
    this.readyState = ReadyStates.closing;
    this.socket.destroy();
  }

  // FrameSink: what the parser reports.

  onFrame(): boolean {
    return this.readyState === ReadyStates.open && this.#handler.onFrame(this);
  }

  onMessage(payload: Buffer, binary: boolean): void {
    if (this.readyState === ReadyStates.open) this.#handler.onMessage(this, payload, binary);
  }

  onDropped(): void {
    if (this.readyState === ReadyStates.open) this.#handler.onDropped(this);
  }

  /**
   * While a pong waits in the socket's queue, a new ping's answer replaces the one held back
   * instead of queueing another (RFC 6455 5.5.3 allows answering only the latest ping): a peer
   * that pings and never reads holds at most one pong in the queue and one here.
   */
  onPing(payload: Buffer): void {
    if (this.readyState !== ReadyStates.open) return;
    const frame = encodeFrame(Opcodes.pong, payload);
    if (this.#pong !== null) this.#pong = frame;
    else this.#writePong(frame);
  }

  #writePong(frame: Buffer): void {
    this.#pong = IN_FLIGHT;
    this.socket.write(frame, () => this.#pongFlushed());
    if (this.socket.writableLength > this.#parser.limits.maxQueuedBytes) this.#handler.onSlow(this);
  }

  /** A pong's write callback (a closure, but only a ping from the peer costs one). */
  #pongFlushed(): void {
    const held = this.#pong;
    this.#pong = null;
    if (held !== null && held !== IN_FLIGHT && this.readyState === ReadyStates.open) this.#writePong(held);
  }

  onPong(): void {
    this.#handler.onPong(this);
  }

  onCloseFrame(code: number, reason: string): void {
    if (this.readyState === ReadyStates.open) {
      // Echo the peer's close (RFC 6455 5.5.1), then end our side.
      this.readyState = ReadyStates.closing;
      this.socket.write(code === NO_STATUS ? encodeFrame(Opcodes.close, EMPTY) : encodeClose(code, reason));
      this.socket.end();
    } else {
      this.socket.end();
    }
  }

  onProtocolError(reason: Disconnect, message: string): void {
    if (this.readyState === ReadyStates.open) this.close(reason.code, message);
    else this.socket.destroy();
  }

  /** Called once by the socket's 'close'. */
  closed(): void {
    if (this.readyState === ReadyStates.closed) return;
    this.readyState = ReadyStates.closed;
    connections.delete(this.socket);
    this.#handler.onClose(this);
  }

  pushBytes(chunk: Buffer): void {
    this.#parser.push(chunk, this);
  }
}

const connections = new WeakMap<Duplex, WsConnection>();

function onData(this: Duplex, chunk: Buffer): void {
  connections.get(this)?.pushBytes(chunk);
}

function onSocketClose(this: Duplex): void {
  connections.get(this)?.closed();
}

function onSocketError(this: Duplex): void {
  this.destroy();
}

/** The peer ended its side: end ours (a half-open WebSocket is of no use). */
function onSocketEnd(this: Duplex): void {
  this.end();
}

/** Only armed while closing: the peer did not finish the closing handshake in time. */
function onSocketTimeout(this: Duplex): void {
  this.destroy();
}
