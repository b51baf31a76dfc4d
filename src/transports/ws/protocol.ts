import { isValidChannel } from '../../contract/channel.js';
import { type ErrorCode, ErrorCodes } from '../../contract/codes.js';
import type { StreamPosition } from '../../contract/stream.js';

/**
 * The WebSocket protocol's client commands (DESIGN.md "Public contract"), parsed from the text
 * of one frame. Pure: no sockets, tested with strings.
 */
export type CommandId = number | string;

export type Command =
  | { id: CommandId; op: 'subscribe'; channel: string; since?: StreamPosition }
  | { id: CommandId; op: 'unsubscribe'; channel: string }
  | { id: CommandId; op: 'presence'; channel: string }
  | { id: CommandId; op: 'ping' }
  /** A new connection token for the same user, before the current one expires (docs/AUTH.md). */
  | { id: CommandId; op: 'refresh'; token: string }
  /** A client publication (DESIGN.md "Client publish"); `data` is its JSON text. */
  | { id: CommandId; op: 'publish'; channel: string; data: string };

/** Characters of a refresh token (auth/tokens.ts refuses longer ones too). */
const MAX_TOKEN_CHARS = 8192;

export interface CommandError {
  id?: CommandId;
  error: { code: ErrorCode; message: string };
}

function fail(code: ErrorCode, message: string | undefined, id?: CommandId): CommandError {
  const e: CommandError = { error: { code, message: message ?? ErrorCodes[code].message } };
  if (id !== undefined) e.id = id;
  return e;
}

function isId(v: unknown): v is CommandId {
  return (
    (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) ||
    (typeof v === 'string' && v.length > 0 && v.length <= 64)
  );
}

/** `refresh`: whether the server takes op refresh (only where access is configured; else it is unknown, as in v1). */
export function parseCommand(
  text: string,
  maxChannelLength: number,
  refresh = false,
): Command | CommandError {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return fail('invalid_json', 'The frame is not valid JSON.');
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    return fail('bad_request', 'A command is a JSON object.');
  }
  const m = msg as Record<string, unknown>;
  if (!isId(m['id'])) return fail('bad_request', '"id" must be a non-negative integer or a short string.');
  const id = m['id'];
  const op = m['op'];
  switch (op) {
    case 'ping':
      return { id, op };
    case 'refresh': {
      if (!refresh) return fail('unknown_op', 'Unknown op "refresh".', id);
      const token = m['token'];
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS)
        return fail('bad_request', '"token" must be a connection token (a non-empty string).', id);
      return { id, op, token };
    }
    case 'subscribe':
    case 'unsubscribe':
    case 'presence': {
      const channel = m['channel'];
      if (!isValidChannel(channel, maxChannelLength)) return fail('invalid_channel', undefined, id);
      if (op !== 'subscribe') return { id, op, channel };
      const since = m['since'];
      if (since === undefined || since === null) return { id, op, channel };
      if (typeof since !== 'object' || Array.isArray(since)) {
        return fail('bad_request', '"since" must be {"epoch": string, "offset": integer}.', id);
      }
      const s = since as Record<string, unknown>;
      const epoch = s['epoch'];
      const offset = s['offset'];
      if (
        typeof epoch !== 'string' ||
        epoch.length > 64 ||
        !Number.isSafeInteger(offset) ||
        (offset as number) < 0
      ) {
        return fail('bad_request', '"since" must be {"epoch": string, "offset": integer}.', id);
      }
      return { id, op, channel, since: { epoch, offset: offset as number } };
    }
    case 'publish': {
      const channel = m['channel'];
      if (!isValidChannel(channel, maxChannelLength)) return fail('invalid_channel', undefined, id);
      if (!('data' in m)) return fail('bad_request', '"data" is required.', id);
      // Any JSON; its size is bounded by the frame's (maxFrameBytes).
      let data: string;
      try {
        data = JSON.stringify(m['data']);
      } catch {
        // JSON.parse takes nesting that JSON.stringify cannot give back (it runs out of stack).
        return fail('bad_request', '"data" is nested too deeply.', id);
      }
      return { id, op, channel, data };
    }
    default:
      return fail(
        'unknown_op',
        typeof op === 'string' ? `Unknown op "${op.slice(0, 32)}".` : '"op" is required.',
        id,
      );
  }
}

export function isCommandError(x: Command | CommandError): x is CommandError {
  return 'error' in x;
}
