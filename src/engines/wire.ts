import type { Publication } from '../contract/stream.js';

/**
 * The pub/sub message format of the broker engines (DESIGN.md: inter-process messages carry a
 * version and the sender's id): `1|<sender>|<epoch>|<offset>|<time>|<data>`, built by
 * redis/publish.lua and by encodeWire. The data is last, so it may hold `|`; the channel is
 * named by the broker's channel or subject.
 */
export const WIRE_VERSION = '1';

export interface WireMessage {
  sender: string;
  pub: Publication;
}

/** Parses one pub/sub message; null for a malformed one or another version. */
export function decodeWire(channel: string, text: string): WireMessage | null {
  const fields: string[] = [];
  let at = 0;
  for (let i = 0; i < 5; i++) {
    const bar = text.indexOf('|', at);
    if (bar < 0) return null;
    fields.push(text.slice(at, bar));
    at = bar + 1;
  }
  const [version, sender, epoch, offsetText, timeText] = fields as [string, string, string, string, string];
  if (version !== WIRE_VERSION) return null;
  const offset = Number(offsetText);
  const time = Number(timeText);
  if (!Number.isSafeInteger(offset) || offset < 1 || !Number.isFinite(time) || epoch === '') return null;
  return { sender, pub: { channel, epoch, offset, data: text.slice(at), time } };
}

export function encodeWire(sender: string, pub: Publication): string {
  return `${WIRE_VERSION}|${sender}|${pub.epoch}|${pub.offset}|${pub.time}|${pub.data}`;
}
