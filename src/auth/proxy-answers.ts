import { isValidChannel } from '../contract/channel.js';
import type { Identity } from '../contract/identity.js';

/**
 * The backend's answers to the proxy (docs/AUTH.md "Proxy to the application's backend"), read
 * strictly: a field of the wrong type is a fault of the backend, never coerced into something
 * that grants more (or other) than the backend said. Fields not in the contract are ignored and
 * never copied. Pure functions of the answer's text, tested with strings.
 */

/** An answer that does not follow the contract; the client is refused with backend_unavailable. */
export class MalformedAnswer extends Error {}

/** Longest user id accepted from the backend. */
export const MAX_USER_LENGTH = 255;
/** Most entries of `channels` (each subscription checks them in turn: identity.ts channelGranted). */
export const MAX_GRANTED_CHANNELS = 1024;
/** Largest `info`, as JSON text: it is kept with every connection and sent in presence. */
export const MAX_INFO_BYTES = 4096;
/**
 * `expireAt` is in seconds; a value past this one (the year 5138) is taken for milliseconds sent
 * by mistake and refused rather than read as a session that never ends.
 */
const MAX_EXPIRE_AT_SECONDS = 1e11;

/**
 * The identity in a 200 answer to the connect proxy, or null when the backend accepts the
 * connection as anonymous (`{"user": ""}`, Centrifugo's convention; such an answer may carry no
 * channels, no info and no expireAt, which only an identity can hold). Throws MalformedAnswer.
 * An expireAt that has already passed resolves as it is: the caller refuses it (isExpired).
 */
export function parseConnectAnswer(body: string, maxChannelLength: number): Identity | null {
  const o = parseObject(body);
  if (o === null) throw new MalformedAnswer('empty answer to connect');
  const user = o.user;
  if (typeof user !== 'string') throw new MalformedAnswer('"user" is not a string');
  if (user.length > MAX_USER_LENGTH) throw new MalformedAnswer(`"user" is longer than ${MAX_USER_LENGTH}`);
  const channels = parseChannels(o.channels, maxChannelLength);
  const info = parseInfo(o.info);
  const expiresAt = parseExpireAt(o.expireAt);
  if (user === '') {
    if (channels.length > 0 || info !== undefined || expiresAt !== 0) {
      throw new MalformedAnswer('an anonymous answer ("user": "") with channels, info or expireAt');
    }
    return null;
  }
  return { user, info, channels, expiresAt };
}

/** Whether the identity's expireAt has passed at `now` (ms). */
export function isExpired(identity: Identity, now: number): boolean {
  return identity.expiresAt !== 0 && identity.expiresAt <= now;
}

/** A 200 answer to the subscribe proxy: empty or a JSON object (its fields are not used). */
export function parseSubscribeAnswer(body: string): void {
  parseObject(body);
}

/**
 * A 200 answer to the publish proxy: the data to publish, as JSON text. Empty, `{}` or an
 * object without `data`: the client's (`clientData`); `{"data": X}`: X instead, at most
 * `maxBytes` bytes of JSON text (a client could not publish more either).
 */
export function parsePublishAnswer(body: string, clientData: string, maxBytes: number): string {
  const o = parseObject(body);
  if (o === null || !Object.hasOwn(o, 'data')) return clientData;
  const text = JSON.stringify(o.data);
  if (Buffer.byteLength(text) > maxBytes) {
    throw new MalformedAnswer(`replacement "data" is larger than ${maxBytes} bytes`);
  }
  return text;
}

/** A JSON object, or null for an empty body; anything else (an array, a number, not JSON) throws. */
function parseObject(body: string): Record<string, unknown> | null {
  if (body.trim() === '') return null;
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    throw new MalformedAnswer('the answer is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new MalformedAnswer('the answer is not a JSON object');
  }
  return v as Record<string, unknown>;
}

/** Absent or null: none. Else an array of channel names or `prefix*` patterns, nothing else. */
function parseChannels(v: unknown, maxChannelLength: number): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new MalformedAnswer('"channels" is not an array');
  if (v.length > MAX_GRANTED_CHANNELS) {
    throw new MalformedAnswer(`"channels" has more than ${MAX_GRANTED_CHANNELS} entries`);
  }
  const out: string[] = [];
  for (const c of v) {
    if (!isChannelPattern(c, maxChannelLength)) {
      throw new MalformedAnswer(
        `"channels" holds ${JSON.stringify(c)?.slice(0, 80)}, not a channel or prefix*`,
      );
    }
    out.push(c);
  }
  return out;
}

/** A channel name, or a channel-name prefix followed by `*` (`*` alone: every channel). */
function isChannelPattern(c: unknown, maxChannelLength: number): c is string {
  if (typeof c !== 'string') return false;
  if (!c.endsWith('*')) return isValidChannel(c, maxChannelLength);
  const prefix = c.slice(0, -1);
  return prefix === '' || isValidChannel(prefix, maxChannelLength);
}

/** Absent or null: none (undefined). Else any JSON of at most MAX_INFO_BYTES. */
function parseInfo(v: unknown): unknown {
  if (v === undefined || v === null) return undefined;
  if (Buffer.byteLength(JSON.stringify(v)) > MAX_INFO_BYTES) {
    throw new MalformedAnswer(`"info" is larger than ${MAX_INFO_BYTES} bytes`);
  }
  return v;
}

/** Absent, null or 0: never (0). Else whole Unix seconds, returned in ms. */
function parseExpireAt(v: unknown): number {
  if (v === undefined || v === null || v === 0) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new MalformedAnswer('"expireAt" is not a whole number of Unix seconds');
  }
  if (v > MAX_EXPIRE_AT_SECONDS)
    throw new MalformedAnswer('"expireAt" looks like milliseconds; send seconds');
  return v * 1000;
}
