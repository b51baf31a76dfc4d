import { isIPv4 } from 'node:net';
import { bareAddress } from '../http/address.js';

export { bareAddress };

/**
 * Failed key attempts per client address (issue 13 "guessing the key"): a fixed window per
 * address; an address that has failed `maxFailures` times in its window is refused until the
 * window ends, whatever key it offers, so a right guess is never checked while it is blocked.
 * Only failures count: a client that offers the right key is never slowed down. Kept per
 * worker process: connections are spread over the workers, so a client may fail up to
 * `maxFailures` times per window in every worker.
 *
 * The table is bounded: past `maxAddresses` the address whose window began first is forgotten
 * (it is the likeliest to have ended), so many addresses cannot grow the process. IPv6 clients
 * are counted by their /64, which one host usually holds whole.
 */
export interface ThrottleLimits {
  /** Failures one address may make per window (0: no limit). */
  maxFailures: number;
  windowMs: number;
  maxAddresses: number;
}

interface Window {
  start: number;
  failures: number;
}

export class FailureThrottle {
  readonly #limits: ThrottleLimits;
  /** Insertion order is window-start order: a new window re-inserts its address. */
  readonly #windows = new Map<string, Window>();

  constructor(limits: ThrottleLimits) {
    this.#limits = limits;
  }

  /** Whole seconds until `address` may try a key again; 0 when it may now. */
  blockedFor(address: string, now = Date.now()): number {
    const l = this.#limits;
    if (l.maxFailures <= 0) return 0;
    const w = this.#windows.get(addressKey(address));
    if (w === undefined || now - w.start >= l.windowMs || w.failures < l.maxFailures) return 0;
    return Math.max(1, Math.ceil((w.start + l.windowMs - now) / 1000));
  }

  /**
   * Records a wrong key from `address`; true when this failure blocks it, which happens once per
   * address per window (a blocked address's keys are not checked, so it fails no more).
   */
  failed(address: string, now = Date.now()): boolean {
    const l = this.#limits;
    if (l.maxFailures <= 0) return false;
    const key = addressKey(address);
    const w = this.#windows.get(key);
    if (w !== undefined && now - w.start < l.windowMs) {
      w.failures++;
      return w.failures === l.maxFailures;
    }
    this.#windows.delete(key);
    if (this.#windows.size >= l.maxAddresses) {
      const oldest = this.#windows.keys().next();
      if (oldest.done !== true) this.#windows.delete(oldest.value);
    }
    this.#windows.set(key, { start: now, failures: 1 });
    return l.maxFailures === 1;
  }

  /** Addresses tracked now (for tests and metrics). */
  get size(): number {
    return this.#windows.size;
  }
}

/**
 * The unit an address is counted by: IPv4 as is (also IPv4-mapped IPv6), IPv6 by its /64; a
 * port is not part of it. Anything that is not an address counts as the string itself.
 */
export function addressKey(entry: string): string {
  const address = bareAddress(entry);
  if (address === null) return entry;
  if (isIPv4(address)) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1]!;
  const bare = address.split('%', 1)[0]!.toLowerCase();
  const [head = '', tail] = bare.split('::', 2);
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')
    .concat('::/64');
}
