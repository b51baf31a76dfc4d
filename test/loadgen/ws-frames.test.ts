import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  clientFrame,
  FrameReader,
  type FrameSink,
  OP_BINARY,
  OP_CLOSE,
  OP_PING,
  OP_TEXT,
} from '../../src/loadgen/clients/ws-frames.js';

/** A server frame (unmasked), as latin1. */
function serverFrame(opcode: number, payload: string, fin = true): string {
  const data = Buffer.from(payload, 'latin1');
  const len = data.length;
  const head =
    len < 126
      ? Buffer.from([(fin ? 0x80 : 0) | opcode, len])
      : len < 65536
        ? Buffer.from([(fin ? 0x80 : 0) | opcode, 126, len >> 8, len & 255])
        : Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, 127, 0, 0, 0, 0]), u32(len)]);
  return Buffer.concat([head, data]).toString('latin1');
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

class Sink implements FrameSink {
  frames: [number, string][] = [];
  onFrame(opcode: number, payload: string): void {
    this.frames.push([opcode, payload]);
  }
}

describe('WebSocket frames', () => {
  it('reads server frames split at every byte', () => {
    const big = 'x'.repeat(70_000);
    const mid = 'y'.repeat(300);
    const stream =
      serverFrame(OP_TEXT, '{"id":1,"ok":true}') +
      serverFrame(OP_PING, 'p') +
      serverFrame(OP_TEXT, mid) +
      serverFrame(OP_BINARY, big) +
      serverFrame(OP_TEXT, 'frag-', false) +
      serverFrame(0, 'ment', true) +
      serverFrame(OP_CLOSE, '\x03\xe8');
    const expected: [number, string][] = [
      [OP_TEXT, '{"id":1,"ok":true}'],
      [OP_PING, 'p'],
      [OP_TEXT, mid],
      [OP_BINARY, big],
      [OP_TEXT, 'frag-ment'],
      [OP_CLOSE, '\x03\xe8'],
    ];
    for (let cut = 0; cut <= stream.length; cut += cut < 400 ? 1 : 997) {
      const r = new FrameReader();
      const s = new Sink();
      r.feed(stream.slice(0, cut), s);
      r.feed(stream.slice(cut), s);
      assert.deepEqual(s.frames, expected, `cut ${cut}`);
    }
  });

  it('writes masked client frames that decode to the payload', () => {
    for (const payload of ['', 'hi', 'é'.repeat(100), 'z'.repeat(70_000)]) {
      const f = clientFrame(OP_TEXT, payload);
      assert.equal(f[0], 0x80 | OP_TEXT);
      assert.ok((f[1]! & 0x80) !== 0, 'masked');
      const s = new Sink();
      new FrameReader().feed(f.toString('latin1'), s);
      assert.equal(s.frames.length, 1);
      assert.equal(Buffer.from(s.frames[0]![1], 'latin1').toString(), payload);
    }
  });

  it('rejects protocol errors', () => {
    assert.throws(() => new FrameReader().feed('\xc1\x00', new Sink()), /reserved/);
    assert.throws(() => new FrameReader().feed(serverFrame(0, 'x'), new Sink()), /continuation/);
    assert.throws(() => new FrameReader().feed(serverFrame(OP_PING, 'x', false), new Sink()), /control/);
    assert.throws(() => new FrameReader().feed(serverFrame(3, 'x'), new Sink()), /opcode/);
  });
});
