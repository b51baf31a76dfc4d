import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type Disconnect, NO_STATUS } from '../../core/codes.js';
import { encodeClose, encodeFrame, type FrameLimits, FrameParser, type FrameSink, Opcodes } from './frame.js';

/** What a WebSocket connection reports; one object (the server) serves every connection. */
export interface WsHandler {
  /** Each frame from the peer, as it starts; false refuses it (FrameSink.onFrame). */
  onFrame(conn: WsConnection): boolean;
  onMessage(conn: WsConnection, payload: Buffer, binary: boolean): void;
  /** A message was dropped because one of its frames was refused. */
  onDropped(conn: WsConnection): void;
  onPong(conn: WsConnection): void;
  /** Once, when the socket is gone (whoever closed it). */
  onClose(conn: WsConnection): void;
}

export const ReadyStates = { open: 1, closing: 2, closed: 3 } as const;

const PING = encodeFrame(Opcodes.ping, Buffer.alloc(0));
/** Grace for the peer to answer our close frame before the socket is destroyed. */
const CLOSE_GRACE_MS = 5000;

/**
 * One WebSocket over an upgraded socket (replaces `ws`'s WebSocket, Receiver and Sender: their
 * streams and per-connection emitters cost about 1.8 KiB of heap per idle connection; see
 * docs/BENCHMARKS.md "Memory per idle connection"). Its only per-connection objects are this,
 * the frame parser and the socket. Socket listeners are module-level functions that find their
 * connection through one WeakMap, so a connection holds no closures.
 */
export class WsConnection implements FrameSink {
  readonly socket: Duplex;
  readonly #handler: WsHandler;
  readonly #parser: FrameParser;
  readyState: number = ReadyStates.open;
  /** The session using this connection (set once by the server). */
  owner: unknown = null;

  constructor(socket: Duplex, handler: WsHandler, limits: FrameLimits) {
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

  /** A text message. */
  send(text: Buffer): void {
    if (this.readyState === ReadyStates.open) this.socket.write(encodeFrame(Opcodes.text, text));
  }

  /** A whole frame from encodeFrame, e.g. one publication's frame shared by every subscriber. */
  sendFrame(frame: Buffer): void {
    if (this.readyState === ReadyStates.open) this.socket.write(frame);
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

  onPing(payload: Buffer): void {
    if (this.readyState === ReadyStates.open) this.socket.write(encodeFrame(Opcodes.pong, payload));
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

const EMPTY = Buffer.alloc(0);
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
