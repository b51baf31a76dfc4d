import { mutateBytes, type Rng } from './rng.js';
import { closePayload, encodeFrame, text } from './ws-wire.js';

/**
 * Generators of bad WebSocket input, each with the answer it must get. `finish: 'probe'` sends a
 * valid ping command afterwards (answered, unless the connection is closed); `'end'` half-closes
 * (the frames may leave the server waiting for bytes that never come) and the server must end.
 */
export interface WsCase {
  name: string;
  frames: Buffer[];
  finish: 'probe' | 'end';
  /** The close code this input must get. */
  expectClose?: number;
  /** The code of a close frame the client sent (the server may echo it). */
  echo?: number;
  /** Ids of commands that must each get exactly one answer (unless the connection closes). */
  replies?: string[];
}

export const MAX_FRAME = 65536;
const VALID_CLOSE = [1000, 1001, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
const INVALID_CLOSE = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535];

function channelName(rng: Rng): unknown {
  return rng.weighted<unknown>([
    [6, () => `fz-${rng.int(0, 20)}`],
    [1, () => 'x'.repeat(rng.pick([255, 256, 1000, 5000]))],
    [1, () => ''],
    [1, () => rng.unicode(rng.int(1, 20))],
    [1, () => rng.string(rng.int(1, 30), 'abc:#-_.@=/,; \t\n"\\%')],
    [1, () => rng.pick([null, 42, true, [], {}, ['a'], { a: 1 }, 1e308])],
  ]);
}

function idValue(rng: Rng): unknown {
  return rng.weighted<unknown>([
    [5, () => rng.int(0, 1000)],
    [1, () => rng.pick([-1, 1.5, 2 ** 53, 2 ** 64, 1e308, -0, Number.MAX_SAFE_INTEGER])],
    [1, () => rng.pick([null, true, [], {}, '', 'x'.repeat(65), 'x'.repeat(10_000)])],
    [1, () => rng.unicode(rng.int(1, 40))],
  ]);
}

function sinceValue(rng: Rng): unknown {
  return rng.weighted<unknown>([
    [3, () => ({ epoch: rng.string(8, 'abcdefghijklmnopqrstuvwxyz0123456789'), offset: rng.int(0, 100) })],
    [
      2,
      () => ({
        epoch: rng.pick(['', 'x'.repeat(65), rng.unicode(10), 'k3j9x2ab']),
        offset: rng.pick([-1, 0, 2 ** 53, 2 ** 53 - 1, 1e20, 0.5, '7', null]),
      }),
    ],
    [1, () => rng.pick([null, 0, 'x', [], [1, 2], { epoch: 1 }, { offset: 1 }])],
  ]);
}

/** A structurally valid command with some fields replaced by wrong values. */
export function command(rng: Rng): Record<string, unknown> {
  const op = rng.weighted<unknown>([
    [3, () => 'subscribe'],
    [2, () => 'unsubscribe'],
    [2, () => 'ping'],
    [1, () => rng.pick(['publish', 'SUBSCRIBE', '', 'message', '__proto__', 'constructor'])],
    [1, () => rng.pick([null, 1, [], {}, rng.unicode(5)])],
  ]);
  const c: Record<string, unknown> = { id: idValue(rng), op, channel: channelName(rng) };
  if (rng.bool(0.4)) c['since'] = sinceValue(rng);
  if (rng.bool(0.15)) delete c['id'];
  if (rng.bool(0.1)) delete c['op'];
  if (rng.bool(0.1)) c[rng.unicode(3)] = rng.unicode(3);
  return c;
}

function deepJson(rng: Rng): string {
  const depth = rng.pick([100, 1000, 10_000, 30_000]);
  return rng.weighted<string>([
    [1, () => '['.repeat(depth) + ']'.repeat(depth)],
    [1, () => '{"a":'.repeat(depth / 10) + '1' + '}'.repeat(depth / 10)],
    [1, () => `{"id":1,"op":"subscribe","channel":"fz-1","since":${'['.repeat(depth)}${']'.repeat(depth)}}`],
    [1, () => '['.repeat(depth)],
  ]);
}

/** The text of one frame: a mutated or hostile command. */
export function commandText(rng: Rng): Buffer {
  return rng.weighted<Buffer>([
    [4, () => Buffer.from(JSON.stringify(command(rng)))],
    [3, () => mutateBytes(rng, Buffer.from(JSON.stringify(command(rng))))],
    [1, () => Buffer.from(deepJson(rng))],
    [1, () => Buffer.from(rng.unicode(rng.int(0, 200)))],
    [
      1,
      () =>
        Buffer.from(
          rng.pick(['', 'null', '[]', '1', '"x"', '{}', '{"id":1}', 'true', '{"id":1,"op":"ping"}']),
        ),
    ],
    [1, () => Buffer.from(`{"id":1,"op":"ping","pad":"${'x'.repeat(rng.int(1000, MAX_FRAME - 100))}"}`)],
  ]);
}

/** Valid UTF-8 prefix with an invalid sequence inside. */
function invalidUtf8(rng: Rng): Buffer {
  const bad = rng.pick([
    [0xff],
    [0xc0, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xf5, 0x80, 0x80, 0x80],
    [0xe2, 0x82],
    [0x80],
  ]);
  return Buffer.concat([Buffer.from('{"id":1,"op":"ping","x":"'), Buffer.from(bad), Buffer.from('"}')]);
}

/**
 * A longer conversation: subscribes and unsubscribes over a few channels (often the same one
 * back to back), with some bad commands. Its own commands carry ids "s0", "s1", ...: each must
 * get exactly one answer.
 */
function session(rng: Rng): { frames: Buffer[]; replies: string[] } {
  const replies: string[] = [];
  const frames = Array.from({ length: rng.int(20, 80) }, (_, i) => {
    const id = `s${i}`;
    const cmd = rng.weighted<Record<string, unknown>>([
      [
        4,
        () => ({
          id,
          op: 'subscribe',
          channel: `fz-${rng.int(0, 40)}`,
          ...(rng.bool(0.3) ? { since: { epoch: rng.pick(['x', 'k3j9x2ab']), offset: rng.int(0, 5) } } : {}),
        }),
      ],
      [3, () => ({ id, op: 'unsubscribe', channel: `fz-${rng.int(0, 40)}` })],
      [1, () => ({ id, op: 'ping' })],
      [1, () => command(rng)],
    ]);
    if (cmd['id'] === id) replies.push(id);
    return text(JSON.stringify(cmd));
  });
  return { frames, replies };
}

export function wsCase(rng: Rng): WsCase {
  return rng.weighted<WsCase>([
    [4, () => ({ name: 'session', ...session(rng), finish: 'probe' })],
    [
      2,
      () => {
        // Subscribe and unsubscribe back to back, before the subscription is complete.
        const ch = `fz-${rng.int(0, 40)}`;
        const ids = ['a', 'b', 'c', 'd'];
        const cmds = [
          { id: 'a', op: 'subscribe', channel: ch },
          { id: 'b', op: 'unsubscribe', channel: ch },
          { id: 'c', op: 'subscribe', channel: ch },
          { id: 'd', op: 'unsubscribe', channel: ch },
        ];
        return {
          name: 'subscribe-unsubscribe race',
          frames: cmds.map((c) => text(JSON.stringify(c))),
          finish: 'probe',
          replies: ids,
        };
      },
    ],
    [
      20,
      () => ({
        name: 'commands',
        frames: Array.from({ length: rng.int(1, 5) }, () => text(commandText(rng))),
        finish: 'probe',
      }),
    ],
    [
      3,
      () => ({
        name: 'binary',
        frames: [encodeFrame({ opcode: 2, payload: rng.bytes(rng.int(0, 300)) })],
        finish: 'probe',
        expectClose: 1003,
      }),
    ],
    [
      3,
      () => ({
        name: 'unmasked',
        frames: [text(JSON.stringify({ id: 1, op: 'ping' }), { mask: null })],
        finish: 'probe',
        expectClose: 1002,
      }),
    ],
    [
      3,
      () => ({ name: 'invalid utf-8', frames: [text(invalidUtf8(rng))], finish: 'probe', expectClose: 1007 }),
    ],
    [
      3,
      () => {
        // Declared over the limit: the server must refuse from the header, without the payload.
        const length = rng.pick([MAX_FRAME + 1, 1 << 20, 2 ** 31, 2 ** 53 - 1]);
        return {
          name: 'oversized frame',
          frames: [encodeFrame({ opcode: rng.pick([1, 2]), payload: rng.bytes(rng.int(0, 64)), length })],
          finish: 'probe',
          expectClose: 1009,
        };
      },
    ],
    [
      1,
      () => ({
        name: 'oversized fragmented message',
        frames: [
          text('x'.repeat(40_000), { fin: false }),
          encodeFrame({ opcode: 0, payload: Buffer.alloc(30_000, 0x78) }),
        ],
        finish: 'probe',
        expectClose: 1009,
      }),
    ],
    [
      2,
      () => ({
        name: 'reserved bits',
        frames: [text('{"id":1,"op":"ping"}', { rsv: rng.int(1, 7) })],
        finish: 'probe',
        expectClose: 1002,
      }),
    ],
    [
      2,
      () => ({
        name: 'reserved opcode',
        frames: [
          encodeFrame({ opcode: rng.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), payload: rng.bytes(4) }),
        ],
        finish: 'probe',
        expectClose: 1002,
      }),
    ],
    [
      2,
      () => ({
        name: 'control frame too long',
        frames: [encodeFrame({ opcode: rng.pick([8, 9, 10]), payload: rng.bytes(rng.int(126, 300)) })],
        finish: 'probe',
        expectClose: 1002,
      }),
    ],
    [
      2,
      () => ({
        name: 'fragmented control frame',
        frames: [encodeFrame({ opcode: rng.pick([9, 10]), payload: rng.bytes(4), fin: false })],
        finish: 'probe',
        expectClose: 1002,
      }),
    ],
    [
      1,
      () => ({
        name: 'ping and pong frames',
        frames: [
          encodeFrame({ opcode: 9, payload: rng.bytes(rng.int(0, 125)) }),
          encodeFrame({ opcode: 10, payload: rng.bytes(rng.int(0, 125)) }),
        ],
        finish: 'probe',
      }),
    ],
    [
      3,
      () => {
        const body = Buffer.from(JSON.stringify(command(rng)));
        const cut = rng.int(1, Math.max(1, body.length - 1));
        return {
          name: 'fragmented message',
          frames: [
            text(body.subarray(0, cut), { fin: false }),
            ...(rng.bool() ? [encodeFrame({ opcode: 9, payload: Buffer.from('mid') })] : []),
            encodeFrame({ opcode: 0, payload: body.subarray(cut) }),
          ],
          finish: 'probe',
        };
      },
    ],
    [
      2,
      () => ({
        name: 'continuation without start',
        frames: [encodeFrame({ opcode: 0, payload: Buffer.from('{"id":1,"op":"ping"}') })],
        finish: 'probe',
        expectClose: 1002,
      }),
    ],
    [
      2,
      () => ({
        name: 'new message inside a fragmented one',
        frames: [text('{"id":1,', { fin: false }), text('{"id":2,"op":"ping"}')],
        finish: 'probe',
        expectClose: 1002,
      }),
    ],
    [
      3,
      () => {
        const valid = rng.bool();
        const code = valid ? rng.pick(VALID_CLOSE) : rng.pick(INVALID_CLOSE);
        const reason = rng.bool() ? rng.unicode(rng.int(0, 20)).slice(0, 30) : '';
        const payload = closePayload(code, reason);
        const fits = payload.length <= 125;
        return {
          name: `close ${code}`,
          frames: [encodeFrame({ opcode: 8, payload })],
          finish: 'probe',
          expectClose: !fits ? 1002 : valid ? code : 1002,
          ...(valid && fits ? { echo: code } : {}),
        };
      },
    ],
    [
      1,
      () => ({
        name: 'close with one byte',
        frames: [encodeFrame({ opcode: 8, payload: Buffer.from([3]) })],
        finish: 'probe',
        expectClose: 1002,
      }),
    ],
    [
      1,
      () => ({
        name: 'close with a bad utf-8 reason',
        frames: [
          encodeFrame({ opcode: 8, payload: Buffer.concat([closePayload(1000), Buffer.from([0xff, 0xfe])]) }),
        ],
        finish: 'probe',
        expectClose: 1007,
      }),
    ],
    [
      1,
      () => ({
        name: 'empty close',
        frames: [encodeFrame({ opcode: 8, payload: Buffer.alloc(0) })],
        finish: 'probe',
        echo: 1005,
      }),
    ],
    [
      2,
      () => {
        // A frame cut short: the server waits for the rest, then sees the end of the stream.
        const f = text(commandText(rng));
        return { name: 'truncated frame', frames: [f.subarray(0, rng.int(1, f.length - 1))], finish: 'end' };
      },
    ],
    [
      2,
      () => ({
        name: 'bad length forms',
        frames: [
          encodeFrame({
            opcode: 1,
            payload: Buffer.from('{"id":1,"op":"ping"}'),
            lengthForm: rng.pick([16, 64] as const),
          }),
        ],
        finish: 'probe',
      }),
    ],
    [
      2,
      () => ({
        name: 'random bytes',
        frames: [rng.bytes(rng.int(1, 200))],
        finish: 'end',
      }),
    ],
    [
      2,
      () => {
        const frame = text(JSON.stringify(command(rng)));
        return { name: 'mutated frame bytes', frames: [mutateBytes(rng, frame)], finish: 'end' };
      },
    ],
  ]);
}
