import { isValidChannel } from '../contract/channel.js';
import { MAX_USER_LENGTH } from '../contract/identity.js';
import type { ControlBus, ControlMessage } from './types.js';

/**
 * The control bus's message format between processes and servers (DESIGN.md: inter-process
 * messages carry a version and the sender's id): JSON `{"v": 1, "from": <sender>, "m":
 * <ControlMessage>}`. Every receiver validates what it gets (decodeControl): a peer on the same
 * broker prefix running another version, or anything else writing there, is ignored, never thrown.
 */
export const CONTROL_VERSION = 1;

/** The longest channel name any configuration allows (config.ts maxChannelLength's max). */
const MAX_CHANNEL = 1024;
/** Longer than any valid frame (a user id and a channel at their longest, and the envelope). */
const MAX_FRAME = 4096;

export function encodeControl(sender: string, msg: ControlMessage): string {
  return JSON.stringify({ v: CONTROL_VERSION, from: sender, m: msg });
}

/** The message of one bus frame, or null when it is malformed or of another version. */
export function decodeControl(text: string): ControlMessage | null {
  if (text.length > MAX_FRAME) return null;
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof frame !== 'object' || frame === null) return null;
  const f = frame as Record<string, unknown>;
  if (f['v'] !== CONTROL_VERSION || typeof f['from'] !== 'string') return null;
  return validControl(f['m']);
}

/** `x` as a ControlMessage (a fresh object holding only its fields), or null when it is not one. */
export function validControl(x: unknown): ControlMessage | null {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return null;
  const m = x as Record<string, unknown>;
  const user = m['user'];
  if (typeof user !== 'string' || user.length === 0 || user.length > MAX_USER_LENGTH) return null;
  switch (m['t']) {
    case 'disconnect':
      return { t: 'disconnect', user };
    case 'subscribe':
    case 'unsubscribe': {
      const channel = m['channel'];
      if (!isValidChannel(channel, MAX_CHANNEL)) return null;
      return { t: m['t'], user, channel };
    }
    default:
      return null;
  }
}

/** How an engine carries its bus: listening starts with the bus; sending hands one message to the broker. */
export interface ControlWire {
  /** Resolves once messages sent by any node reach receive(). */
  listen(): Promise<void>;
  send(msg: ControlMessage): Promise<void>;
}

/**
 * The ControlBus of every engine over its own wire (contracts: engines/types.ts). What arrives
 * goes through receive(), which drops anything not a valid ControlMessage.
 */
export class ControlRelay implements ControlBus {
  readonly #wire: ControlWire;
  #handler: ((msg: ControlMessage) => void) | null = null;

  constructor(wire: ControlWire) {
    this.#wire = wire;
  }

  async start(handler: (msg: ControlMessage) => void): Promise<void> {
    this.#handler = handler;
    await this.#wire.listen();
  }

  broadcast(msg: ControlMessage): Promise<void> {
    const valid = validControl(msg);
    if (valid === null) return Promise.reject(new TypeError('not a control message'));
    return this.#wire.send(valid);
  }

  /** A message from the wire (decoded or not yet checked): delivered when valid, else dropped. */
  receive(msg: unknown): void {
    const valid = validControl(msg);
    if (valid !== null && this.#handler !== null) this.#handler(valid);
  }

  /** Stops delivering (the engine is closing). */
  stop(): void {
    this.#handler = null;
  }
}
