import type { PresenceEvent, PresenceMember } from './types.js';

/**
 * The broker engines' presence events, on a channel's pub/sub channel or subject beside its
 * publications (wire.ts): `p1|join|<member JSON>` and `p1|leave|<member JSON>`, the JSON being
 * {"client", "user", "info"?}. A publication's message starts with its version `1|`, so the two
 * never read as each other. Built here and by the Redis presence scripts (presence-common.lua).
 */
export const PRESENCE_WIRE = 'p1|';

export function isPresenceWire(text: string): boolean {
  return text.startsWith(PRESENCE_WIRE);
}

/**
 * The member's JSON as stored and sent (info left out when there is none). A lone surrogate in
 * the user or info (JSON.parse takes "\ud800" in a token) is written as U+FFFD: JSON.stringify
 * escapes it, and Redis's Lua cjson refuses that escape, so the member's leave and reap failed.
 */
export function memberJson(m: PresenceMember): string {
  return JSON.stringify(m.info === undefined ? { client: m.client, user: m.user } : m).replace(
    LONE_SURROGATE,
    wellFormed,
  );
}

/** A `\\` pair (matched first, so that alignment holds) or a surrogate escape (JSON.stringify writes only lone ones). */
const LONE_SURROGATE = /\\\\|\\ud[89a-f][0-9a-f]{2}/g;

function wellFormed(seq: string): string {
  return seq === '\\\\' ? seq : '\\ufffd';
}

export function encodePresenceWire(op: 'join' | 'leave', m: PresenceMember): string {
  return `${PRESENCE_WIRE}${op}|${memberJson(m)}`;
}

/** Parses a member's JSON; null when it is not one. */
export function parseMember(json: string): PresenceMember | null {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o['client'] !== 'string' || typeof o['user'] !== 'string') return null;
  const m: PresenceMember = { client: o['client'], user: o['user'] };
  if (o['info'] !== undefined) m.info = o['info'];
  return m;
}

/** Parses one presence event of `channel`; null for a malformed one or another version. */
export function decodePresenceWire(channel: string, text: string): PresenceEvent | null {
  if (!text.startsWith(PRESENCE_WIRE)) return null;
  const bar = text.indexOf('|', PRESENCE_WIRE.length);
  if (bar < 0) return null;
  const op = text.slice(PRESENCE_WIRE.length, bar);
  if (op !== 'join' && op !== 'leave') return null;
  const member = parseMember(text.slice(bar + 1));
  return member === null ? null : { op, channel, member };
}
