import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import type { Disconnect } from '../../src/contract/codes.js';
import {
  encodeClose,
  encodeFrame,
  type FrameLimits,
  FrameParser,
  type FrameSink,
  isValidCloseCode,
  MAX_FRAGMENTS,
} from '../../src/transports/ws/frame.js';

type Event =
  | { kind: 'message'; binary: boolean; data: string }
  | { kind: 'ping' | 'pong'; data: string }
  | { kind: 'close'; code: number; reason: string }
  | { kind: 'error'; code: number }
  | { kind: 'dropped' };

setFlagsFromString('--expose-gc');
/** A full collection, to see what a parser keeps alive. */
const gc = runInNewContext('gc') as () => void;

class Recorder implements FrameSink {
  readonly events: Event[] = [];
  /** Frames seen by onFrame, and how many more it accepts (Infinity: all). */
  frames = 0;
  allow = Number.POSITIVE_INFINITY;
  onFrame(): boolean {
    this.frames++;
    return this.frames <= this.allow;
  }
  onDropped(): void {
    this.events.push({ kind: 'dropped' });
  }
  onMessage(payload: Buffer, binary: boolean): void {
    this.events.push({ kind: 'message', binary, data: payload.toString(binary ? 'hex' : 'utf8') });
  }
  onPing(payload: Buffer): void {
    this.events.push({ kind: 'ping', data: payload.toString() });
  }
  onPong(payload: Buffer): void {
    this.events.push({ kind: 'pong', data: payload.toString() });
  }
  onCloseFrame(code: number, reason: string): void {
    this.events.push({ kind: 'close', code, reason });
  }
  onProtocolError(reason: Disconnect): void {
    this.events.push({ kind: 'error', code: reason.code });
  }
}

interface FrameOpts {
  fin?: boolean;
  rsv?: number;
  masked?: boolean;
  mask?: readonly number[];
  /** Force the 64-bit length form even for small payloads. */
  long?: boolean;
}

/** A client frame, built byte by byte here (independent of the module under test). */
function clientFrame(opcode: number, payload: Buffer | string, o: FrameOpts = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const mask = o.mask ?? [0x37, 0xfa, 0x21, 0x3d];
  const masked = o.masked ?? true;
  const head: number[] = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode];
  const m = masked ? 0x80 : 0;
  const n = data.length;
  if (o.long || n > 0xffff) {
    head.push(m | 127, 0, 0, 0, 0, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  } else if (n > 125) head.push(m | 126, n >> 8, n & 0xff);
  else head.push(m | n);
  const body = Buffer.from(data);
  if (masked) {
    head.push(...mask);
    for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ mask[i % 4]!;
  }
  return Buffer.concat([Buffer.from(head), body]);
}

const limits = (maxPayload: number, maxFragments = MAX_FRAGMENTS): FrameLimits => ({
  maxPayload,
  maxFragments,
});

function parse(bytes: Buffer | Buffer[], maxPayload = 1 << 20): Event[] {
  const p = new FrameParser(limits(maxPayload));
  const r = new Recorder();
  for (const b of Array.isArray(bytes) ? bytes : [bytes]) p.push(b, r);
  return r.events;
}

test('a masked text frame, and the RFC 6455 5.7 example bytes', () => {
  assert.deepEqual(parse(clientFrame(1, 'hello')), [{ kind: 'message', binary: false, data: 'hello' }]);
  // "Hello" from RFC 6455 5.7, masked with 37 fa 21 3d.
  const rfc = Buffer.from([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
  assert.deepEqual(parse(rfc), [{ kind: 'message', binary: false, data: 'Hello' }]);
});

test('payload lengths across the 7-bit, 16-bit and 64-bit forms', () => {
  for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
    const data = Buffer.alloc(n, 0x61);
    assert.deepEqual(parse(clientFrame(2, data)), [
      { kind: 'message', binary: true, data: data.toString('hex') },
    ]);
  }
  assert.deepEqual(parse(clientFrame(1, 'x', { long: true })), [
    { kind: 'message', binary: false, data: 'x' },
  ]);
});

test('any split of a stream of frames gives the same events', () => {
  const stream = Buffer.concat([
    clientFrame(1, 'first'),
    clientFrame(9, 'pi'),
    clientFrame(1, 'frag', { fin: false }),
    clientFrame(10, 'po'),
    clientFrame(0, 'mented ✓', { fin: false }),
    clientFrame(0, '', { fin: true }),
    clientFrame(2, Buffer.alloc(300, 7)),
    clientFrame(1, 'é'.repeat(100)),
    clientFrame(8, Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('bye')])),
  ]);
  const expected = parse(Buffer.from(stream)); // the parser unmasks in place: give it copies
  assert.deepEqual(expected, [
    { kind: 'message', binary: false, data: 'first' },
    { kind: 'ping', data: 'pi' },
    { kind: 'pong', data: 'po' },
    { kind: 'message', binary: false, data: 'fragmented ✓' },
    { kind: 'message', binary: true, data: Buffer.alloc(300, 7).toString('hex') },
    { kind: 'message', binary: false, data: 'é'.repeat(100) },
    { kind: 'close', code: 1000, reason: 'bye' },
  ]);
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }), (cuts) => {
      const sorted = [...cuts].sort((a, b) => a - b);
      const pieces: Buffer[] = [];
      let at = 0;
      for (const c of sorted) {
        pieces.push(Buffer.from(stream.subarray(at, c)));
        at = c;
      }
      pieces.push(Buffer.from(stream.subarray(at)));
      assert.deepEqual(parse(pieces), expected);
    }),
  );
  // One byte at a time.
  assert.deepEqual(parse([...stream].map((b) => Buffer.from([b]))), expected);
});

test('random masks and payloads round-trip', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 600 }),
      fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
      (bytes, mask) => {
        const data = Buffer.from(bytes);
        assert.deepEqual(parse(clientFrame(2, data, { mask })), [
          { kind: 'message', binary: true, data: data.toString('hex') },
        ]);
      },
    ),
  );
});

test('text must be UTF-8 as a whole message; code points may straddle fragments', () => {
  const euro = Buffer.from('€'); // e2 82 ac
  const split = [
    clientFrame(1, euro.subarray(0, 1), { fin: false }),
    clientFrame(0, euro.subarray(1), { fin: true }),
  ];
  assert.deepEqual(parse(split), [{ kind: 'message', binary: false, data: '€' }]);
  assert.deepEqual(parse(clientFrame(1, Buffer.from([0xc3, 0x28]))), [{ kind: 'error', code: 1007 }]);
  assert.deepEqual(parse(clientFrame(1, euro.subarray(0, 2))), [{ kind: 'error', code: 1007 }]);
  // Surrogates encoded in UTF-8 (CESU) are not UTF-8.
  assert.deepEqual(parse(clientFrame(1, Buffer.from([0xed, 0xa0, 0x80]))), [{ kind: 'error', code: 1007 }]);
  // Binary messages are not checked.
  assert.deepEqual(parse(clientFrame(2, Buffer.from([0xc3, 0x28]))), [
    { kind: 'message', binary: true, data: 'c328' },
  ]);
});

test('protocol errors close with 1002 and stop the parser', () => {
  const cases: [string, Buffer][] = [
    ['unmasked', clientFrame(1, 'x', { masked: false })],
    ['RSV1 (no extension negotiated)', clientFrame(1, 'x', { rsv: 4 })],
    ['RSV3', clientFrame(1, 'x', { rsv: 1 })],
    ['opcode 3', clientFrame(3, 'x')],
    ['opcode 0xb', clientFrame(0xb, 'x')],
    ['fragmented ping', clientFrame(9, 'x', { fin: false })],
    ['ping over 125 bytes', clientFrame(9, Buffer.alloc(126))],
    ['continuation without a start', clientFrame(0, 'x')],
    ['close of 1 byte', clientFrame(8, Buffer.from([3]))],
  ];
  for (const [name, bytes] of cases) {
    assert.deepEqual(parse([bytes, clientFrame(1, 'after')]), [{ kind: 'error', code: 1002 }], name);
  }
  const nested = [clientFrame(1, 'a', { fin: false }), clientFrame(1, 'b')];
  assert.deepEqual(parse(nested), [{ kind: 'error', code: 1002 }]);
  // A 64-bit length with the top bits set.
  const huge = Buffer.from([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  assert.deepEqual(parse(huge), [{ kind: 'error', code: 1002 }]);
});

test('frames over maxPayload close with 1009, seen from the header alone', () => {
  const p = new FrameParser(limits(1024));
  const r = new Recorder();
  const big = clientFrame(1, Buffer.alloc(1025, 0x61));
  p.push(big.subarray(0, 8), r); // header and mask only
  assert.deepEqual(r.events, [{ kind: 'error', code: 1009 }]);
  assert.deepEqual(parse(clientFrame(1, Buffer.alloc(1024, 0x61)), 1024).length, 1);
  // Fragments count together.
  const frags = [
    clientFrame(1, Buffer.alloc(600, 0x61), { fin: false }),
    clientFrame(0, Buffer.alloc(600, 0x61), { fin: true }),
  ];
  assert.deepEqual(parse(frags, 1024), [{ kind: 'error', code: 1009 }]);
  // Control frames inside a fragmented message do not count.
  const withPing = [
    clientFrame(1, Buffer.alloc(1000, 0x61), { fin: false }),
    clientFrame(9, Buffer.alloc(100)),
    clientFrame(0, Buffer.alloc(24, 0x61), { fin: true }),
  ];
  assert.deepEqual(
    parse(withPing, 1024).map((e) => e.kind),
    ['ping', 'message'],
  );
});

test('close frames: code, reason, validity; nothing after a close', () => {
  const close = (code: number, reason = ''): Buffer => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(code);
    return clientFrame(8, Buffer.concat([b, Buffer.from(reason)]));
  };
  assert.deepEqual(parse([clientFrame(8, ''), clientFrame(1, 'x')]), [
    { kind: 'close', code: 1005, reason: '' },
  ]);
  assert.deepEqual(parse([close(4001, 'né'), clientFrame(1, 'x')]), [
    { kind: 'close', code: 4001, reason: 'né' },
  ]);
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000]) {
    assert.deepEqual(parse(close(code)), [{ kind: 'error', code: 1002 }], String(code));
    assert.equal(isValidCloseCode(code), false);
  }
  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]) {
    assert.deepEqual(parse(close(code)), [{ kind: 'close', code, reason: '' }], String(code));
  }
  const badReason = Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from([0xff])]);
  assert.deepEqual(parse(clientFrame(8, badReason)), [{ kind: 'error', code: 1007 }]);
});

test('encodeFrame writes unmasked server frames in the shortest length form', () => {
  const f0 = encodeFrame(1, Buffer.from('Hello'));
  assert.deepEqual([...f0], [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]); // RFC 6455 5.7
  assert.deepEqual([...encodeFrame(9, Buffer.alloc(0))], [0x89, 0x00]);
  const f125 = encodeFrame(2, Buffer.alloc(125, 1));
  assert.deepEqual([...f125.subarray(0, 2)], [0x82, 125]);
  assert.equal(f125.length, 127);
  const f126 = encodeFrame(1, Buffer.alloc(126, 1));
  assert.deepEqual([...f126.subarray(0, 4)], [0x81, 126, 0x00, 126]);
  const f65535 = encodeFrame(1, Buffer.alloc(65535, 1));
  assert.deepEqual([...f65535.subarray(0, 4)], [0x81, 126, 0xff, 0xff]);
  const f65536 = encodeFrame(1, Buffer.alloc(65536, 1));
  assert.deepEqual([...f65536.subarray(0, 10)], [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
  assert.equal(f65536.length, 65546);
  assert.equal(f65536[10], 1);
});

test('encodeClose: code then reason, cut to 123 bytes', () => {
  assert.deepEqual([...encodeClose(1000)], [0x88, 0x02, 0x03, 0xe8]);
  const c = encodeClose(3001, 'slow');
  assert.deepEqual([...c], [0x88, 0x06, 0x0b, 0xb9, 0x73, 0x6c, 0x6f, 0x77]);
  const long = encodeClose(1001, 'x'.repeat(200));
  assert.equal(long[1], 125);
  assert.equal(long.length, 127);
});

test('endless zero-length non-final continuations close with 1009 at the fragment cap', () => {
  // The attack: a message that never ends, each fragment adding nothing to its length.
  const p = new FrameParser(limits(1024));
  const r = new Recorder();
  p.push(clientFrame(1, '{', { fin: false }), r);
  const empty = clientFrame(0, '', { fin: false });
  let sent = 1;
  for (; sent < 10_000 && r.events.length === 0; sent++) p.push(Buffer.from(empty), r);
  assert.deepEqual(r.events, [{ kind: 'error', code: 1009 }]);
  assert.equal(sent, MAX_FRAGMENTS + 1, 'closed at the first fragment past the cap');
  assert.equal(r.frames, MAX_FRAGMENTS, 'the frame past the cap is not even reported');
  // A message of exactly the cap's fragments is whole (fresh bytes each time: parsing unmasks them).
  const whole = (): Buffer[] => {
    const frames = [clientFrame(1, 'a', { fin: false })];
    for (let i = 2; i < MAX_FRAGMENTS; i++) frames.push(clientFrame(0, '', { fin: false }));
    frames.push(clientFrame(0, 'b'));
    return frames;
  };
  assert.deepEqual(parse(whole()), [{ kind: 'message', binary: false, data: 'ab' }]);
  // The count is per message: the next one starts from zero.
  assert.equal(parse([...whole(), ...whole()]).length, 2);
});

test('one-byte fragments, each in its own chunk, are copied: no chunk is pinned by the message', async () => {
  const p = new FrameParser(limits(1 << 20, 1000));
  const r = new Recorder();
  // Each fragment arrives in its own large chunk, as from a socket read: a kept view of a
  // fragment's payload would keep that whole chunk alive (the amplification of the attack).
  const chunks: WeakRef<ArrayBuffer>[] = [];
  const feed = (frame: Buffer): void => {
    const big = Buffer.from(new ArrayBuffer(16_384));
    frame.copy(big);
    chunks.push(new WeakRef(big.buffer));
    p.push(big.subarray(0, frame.length), r);
  };
  feed(clientFrame(1, 'x', { fin: false }));
  for (let i = 0; i < 900; i++) feed(clientFrame(0, 'y', { fin: false }));
  assert.deepEqual(r.events, []);
  await new Promise((resolve) => setImmediate(resolve)); // WeakRef targets live to the end of a job
  gc();
  const pinned = chunks.filter((w) => w.deref() !== undefined).length;
  assert.equal(pinned, 0, `${pinned} chunks of 16 KiB kept alive by a 901-byte message`);
  // The message so far is 901 bytes, in one buffer that grows by doubling.
  assert.ok(p.bufferedBytes <= 2 * 901, `held ${p.bufferedBytes} bytes`);
  p.push(clientFrame(0, 'z'), r);
  assert.deepEqual(r.events, [{ kind: 'message', binary: false, data: `x${'y'.repeat(900)}z` }]);
  assert.equal(p.bufferedBytes, 0);
});

test('every frame goes through onFrame; a refused frame is skipped, a refused fragment drops its message', () => {
  // Refused control frames are not reported.
  const r = new Recorder();
  r.allow = 1;
  const p = new FrameParser(limits(1024));
  p.push(Buffer.concat([clientFrame(9, 'a'), clientFrame(9, 'b'), clientFrame(10, 'c')]), r);
  assert.equal(r.frames, 3);
  assert.deepEqual(r.events, [{ kind: 'ping', data: 'a' }]);
  // A refused middle fragment drops the message once it ends; the next message is whole.
  const r2 = new Recorder();
  const p2 = new FrameParser(limits(1024));
  p2.push(clientFrame(1, 'ab', { fin: false }), r2);
  r2.allow = 0;
  p2.push(clientFrame(0, 'cd', { fin: false }), r2);
  r2.allow = Number.POSITIVE_INFINITY;
  p2.push(clientFrame(9, 'mid'), r2);
  p2.push(clientFrame(0, 'ef'), r2);
  assert.equal(p2.bufferedBytes, 0, 'a dropped message is not kept');
  p2.push(clientFrame(1, 'next'), r2);
  assert.deepEqual(r2.events, [
    { kind: 'ping', data: 'mid' },
    { kind: 'dropped' },
    { kind: 'message', binary: false, data: 'next' },
  ]);
  // A dropped message still counts toward maxPayload.
  const r3 = new Recorder();
  r3.allow = 0;
  const p3 = new FrameParser(limits(1024));
  p3.push(clientFrame(1, Buffer.alloc(600), { fin: false }), r3);
  p3.push(clientFrame(0, Buffer.alloc(600)), r3);
  assert.deepEqual(r3.events, [{ kind: 'error', code: 1009 }]);
  // A close frame is honoured even when refused.
  const r4 = new Recorder();
  r4.allow = 0;
  new FrameParser(limits(1024)).push(clientFrame(8, Buffer.from([0x03, 0xe8])), r4);
  assert.deepEqual(r4.events, [{ kind: 'close', code: 1000, reason: '' }]);
});

/**
 * Feeds `bytes` one byte per push, each byte on an ArrayBuffer of its own (as separate socket
 * reads would be), and notes a WeakRef to each: a chunk the parser kept stays reachable.
 */
function feedBytewise(p: FrameParser, r: FrameSink, bytes: Buffer, refs: WeakRef<ArrayBuffer>[]): void {
  for (const b of bytes) {
    const chunk = Buffer.from(new ArrayBuffer(1));
    chunk[0] = b;
    refs.push(new WeakRef(chunk.buffer));
    p.push(chunk, r);
  }
}

/** How many of the chunks are still alive after a full collection. */
async function kept(refs: WeakRef<ArrayBuffer>[]): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve)); // WeakRef targets live to the end of a job
  gc();
  return refs.filter((w) => w.deref() !== undefined).length;
}

test('a 64 KiB frame fed one byte per push keeps no chunk, only one buffer of at most its payload', async () => {
  // The attack: one frame header (one frame of the budget), then its payload one byte per read.
  // Keeping each read's Buffer cost about 200 bytes of heap per payload byte.
  const data = Buffer.alloc(65535);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
  const frame = clientFrame(2, data, { mask: [0x01, 0x80, 0xfe, 0x33] });
  const whole = parse(Buffer.from(frame));
  assert.deepEqual(whole, [{ kind: 'message', binary: true, data: data.toString('hex') }]);
  const p = new FrameParser(limits(65536));
  const r = new Recorder();
  const refs: WeakRef<ArrayBuffer>[] = [];
  feedBytewise(p, r, frame.subarray(0, frame.length - 1), refs);
  assert.equal(refs.length, 8 + 65534); // the header (16-bit length form) and all but one payload byte
  assert.deepEqual(r.events, []);
  const alive = await kept(refs);
  assert.equal(alive, 0, `${alive} one-byte chunks kept alive by one unfinished frame`);
  const held = p.bufferedBytes;
  assert.ok(held >= 65534 && held <= 65535, `holds ${held} B for 65,534 payload bytes received`);
  feedBytewise(p, r, frame.subarray(frame.length - 1), refs);
  assert.deepEqual(r.events, whole);
  assert.equal(p.bufferedBytes, 0);
});

test('a refused frame fed one byte per push is counted and dropped as it arrives: nothing is kept', async () => {
  const frame = clientFrame(1, Buffer.alloc(65535, 0x20));
  const p = new FrameParser(limits(65536));
  const r = new Recorder();
  r.allow = 0;
  const refs: WeakRef<ArrayBuffer>[] = [];
  feedBytewise(p, r, frame.subarray(0, frame.length - 1), refs);
  assert.equal(r.frames, 1);
  assert.equal(p.bufferedBytes, 0, 'a refused payload is not held');
  const alive = await kept(refs);
  assert.equal(alive, 0, `${alive} one-byte chunks kept alive by a refused frame`);
  feedBytewise(p, r, frame.subarray(frame.length - 1), refs);
  assert.deepEqual(r.events, [{ kind: 'dropped' }]);
  // The next frame starts right after the skipped one.
  r.allow = Number.POSITIVE_INFINITY;
  feedBytewise(p, r, clientFrame(1, 'next'), refs);
  assert.deepEqual(r.events, [{ kind: 'dropped' }, { kind: 'message', binary: false, data: 'next' }]);
});

test('a declared length costs nothing until its bytes come, then what they need', () => {
  const p = new FrameParser(limits(1 << 20));
  const r = new Recorder();
  const frame = clientFrame(2, Buffer.alloc(1 << 20, 0x61));
  p.push(frame.subarray(0, 14), r); // header and mask only
  assert.equal(p.bufferedBytes, 0);
  p.push(frame.subarray(14, 24), r);
  assert.ok(p.bufferedBytes <= 1024, `holds ${p.bufferedBytes} B for 10`);
  p.push(frame.subarray(24, 14 + 100_000), r);
  assert.ok(p.bufferedBytes <= 2 * 100_000, `holds ${p.bufferedBytes} B for 100,000`);
  p.push(frame.subarray(14 + 100_000), r);
  assert.equal(r.events.length, 1);
  assert.equal(p.bufferedBytes, 0);
  // The largest length the header can declare (2^53 - 1), under a limit that lets it through:
  // still nothing before the payload, and its first bytes cost what they need.
  const q = new FrameParser(limits(Number.MAX_SAFE_INTEGER));
  const huge = Buffer.from([0x82, 0xff, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]);
  q.push(huge, r);
  assert.equal(q.bufferedBytes, 0);
  q.push(Buffer.alloc(100), r);
  assert.ok(q.bufferedBytes <= 1024, `holds ${q.bufferedBytes} B for 100`);
  // Over the limit: refused from the header, byte by byte too, with nothing held.
  const s = new FrameParser(limits(1024));
  const rs = new Recorder();
  for (const b of clientFrame(1, Buffer.alloc(1025, 0x61)).subarray(0, 8)) s.push(Buffer.from([b]), rs);
  assert.deepEqual(rs.events, [{ kind: 'error', code: 1009 }]);
  assert.equal(s.bufferedBytes, 0);
});

test('a header split at any byte (or at every one) parses the same', () => {
  const targets = [
    clientFrame(1, 'hello'), // 6-byte header
    clientFrame(2, Buffer.alloc(300, 5)), // 8
    clientFrame(2, Buffer.alloc(70_000, 9)), // 14
    clientFrame(1, 'x', { long: true }), // 14, a small length in the 64-bit form
    clientFrame(9, 'pi'),
    clientFrame(1, '', { mask: [1, 2, 3, 4] }),
  ];
  for (const target of targets) {
    const headSize = target[1]! & 0x7f;
    const size = headSize === 127 ? 14 : headSize === 126 ? 8 : 6;
    const prefix = clientFrame(1, 'before');
    const stream = Buffer.concat([prefix, target, clientFrame(1, 'after')]);
    const expected = parse(Buffer.from(stream));
    assert.equal(expected.length, 3);
    const from = prefix.length;
    // Every pair of cuts in or at the edges of the header: two or three pieces.
    for (let i = from; i <= from + size; i++) {
      for (let j = i; j <= from + size; j++) {
        const pieces = [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)];
        assert.deepEqual(
          parse(pieces.filter((b) => b.length > 0).map((b) => Buffer.from(b))),
          expected,
          `cuts ${i - from}, ${j - from}`,
        );
      }
    }
    // Its header one byte per push, the rest at once.
    const bytewise = [...stream.subarray(0, from + size)].map((b) => Buffer.from([b]));
    assert.deepEqual(parse([...bytewise, Buffer.from(stream.subarray(from + size))]), expected);
  }
  // What the first two bytes show fails at once, before the rest of the header.
  const p = new FrameParser(limits(1024));
  const r = new Recorder();
  p.push(Buffer.from([0x81]), r);
  assert.deepEqual(r.events, []);
  p.push(Buffer.from([0x7e]), r); // unmasked, 16-bit length to follow
  assert.deepEqual(r.events, [{ kind: 'error', code: 1002 }]);
  assert.equal(p.bufferedBytes, 0);
});

test('masks run on across reads: any split of masked frames and fragments round-trips', () => {
  const mask = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 });
  fc.assert(
    fc.property(
      fc.array(fc.record({ bytes: fc.uint8Array({ maxLength: 300 }), mask }), { minLength: 1, maxLength: 3 }),
      fc.uniqueArray(fc.integer({ min: 1, max: 1000 }), { maxLength: 30 }),
      (frags, cutsAt) => {
        const frames = frags.map((f, i) =>
          clientFrame(i === 0 ? 2 : 0, Buffer.from(f.bytes), { fin: i === frags.length - 1, mask: f.mask }),
        );
        const stream = Buffer.concat(frames);
        const cuts = [...new Set(cutsAt.map((c) => c % stream.length))]
          .filter((c) => c > 0)
          .sort((a, b) => a - b);
        const pieces: Buffer[] = [];
        let at = 0;
        for (const c of cuts) {
          pieces.push(Buffer.from(stream.subarray(at, c)));
          at = c;
        }
        pieces.push(Buffer.from(stream.subarray(at)));
        const data = Buffer.concat(frags.map((f) => Buffer.from(f.bytes))).toString('hex');
        assert.deepEqual(parse(pieces), [{ kind: 'message', binary: true, data }]);
      },
    ),
  );
  // One byte per push, the mask's four phases at every start.
  for (let n = 1; n <= 9; n++) {
    const data = Buffer.from('abcdefghi'.slice(0, n));
    const frame = clientFrame(1, data, { mask: [0x11, 0x22, 0x44, 0x88] });
    assert.deepEqual(parse([...frame].map((b) => Buffer.from([b]))), [
      { kind: 'message', binary: false, data: data.toString() },
    ]);
  }
});

test('a payload whole inside one chunk is a view of it (no copy); a split one is copied', () => {
  const payloads: Buffer[] = [];
  class Keeper extends Recorder {
    override onMessage(payload: Buffer, binary: boolean): void {
      payloads.push(payload);
      super.onMessage(payload, binary);
    }
  }
  const r = new Keeper();
  const p = new FrameParser(limits(1 << 20));
  const one = clientFrame(2, Buffer.alloc(5000, 1));
  p.push(one, r);
  assert.equal(payloads[0]!.buffer, one.buffer, 'the frame in one chunk');
  // Header in one chunk, the whole payload in the next.
  const two = clientFrame(2, Buffer.alloc(5000, 2));
  const payloadChunk = Buffer.from(two.subarray(8));
  p.push(Buffer.from(two.subarray(0, 8)), r);
  p.push(payloadChunk, r);
  assert.equal(payloads[1]!.buffer, payloadChunk.buffer, 'the payload in one chunk');
  // The payload split: a buffer of the parser's, not a view of either chunk.
  const three = clientFrame(2, Buffer.alloc(5000, 3));
  const a = Buffer.from(three.subarray(0, 100));
  const b = Buffer.from(three.subarray(100));
  p.push(a, r);
  p.push(b, r);
  assert.notEqual(payloads[2]!.buffer, a.buffer);
  assert.notEqual(payloads[2]!.buffer, b.buffer);
  assert.deepEqual(
    r.events.map((e) => (e.kind === 'message' ? e.data : '')),
    [1, 2, 3].map((v) => Buffer.alloc(5000, v).toString('hex')),
  );
});
