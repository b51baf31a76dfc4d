import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Publication } from '../../src/contract/stream.js';
import { MemoryHistory } from '../../src/engines/memory/history.js';
import { Sequencer } from '../../src/engines/sequencer.js';
import { eventually } from './conformance.js';

/** The Sequencer against a real (in-process) history: what a broker hands over, in any order. */
function setup(size = 100): {
  history: MemoryHistory;
  got: Publication[];
  seq: Sequencer;
  pubs: Publication[];
} {
  const history = new MemoryHistory({ size, ttlMs: 60_000, metaTtlMs: 60_000 });
  const got: Publication[] = [];
  const seq = new Sequencer(
    (p) => got.push(p),
    async (channel, since, limit) => history.read(channel, { since, limit }, Date.now()),
  );
  const pubs: Publication[] = [];
  for (let i = 0; i < 6; i++) pubs.push(history.append('c', String(i + 1), Date.now()));
  return { history, got, seq, pubs };
}

const offsets = (ps: Publication[]): number[] => ps.map((p) => p.offset);

describe('Sequencer', () => {
  it('holds publications until the start position is known, then passes only newer ones', () => {
    const { got, seq, pubs } = setup();
    seq.track('c');
    seq.push(pubs[2]!);
    seq.push(pubs[3]!);
    assert.deepEqual(got, []);
    seq.position('c', { epoch: pubs[0]!.epoch, offset: 3 });
    assert.deepEqual(offsets(got), [4]);
    seq.push(pubs[3]!);
    seq.push(pubs[4]!);
    assert.deepEqual(offsets(got), [4, 5]);
  });

  it('fills a gap from history and drops the late arrivals: each once, in order', async () => {
    const { got, seq, pubs } = setup();
    seq.track('c');
    seq.position('c', { epoch: pubs[0]!.epoch, offset: 0 });
    seq.push(pubs[0]!);
    seq.push(pubs[3]!); // 2 and 3 are still on their way
    seq.push(pubs[2]!);
    seq.push(pubs[5]!);
    await eventually('the gap to be filled', () => got.length === 6);
    seq.push(pubs[1]!);
    seq.push(pubs[4]!);
    assert.deepEqual(offsets(got), [1, 2, 3, 4, 5, 6]);
  });

  it('resync delivers what was missed while the broker connection was down', async () => {
    const { got, seq, pubs } = setup();
    seq.track('c');
    seq.position('c', { epoch: pubs[0]!.epoch, offset: 0 });
    seq.push(pubs[0]!);
    seq.push(pubs[1]!);
    seq.resync();
    await eventually('the missed publications', () => got.length === 6);
    assert.deepEqual(offsets(got), [1, 2, 3, 4, 5, 6]);
  });

  it('passes a gap on when history no longer reaches back, and takes a new epoch', async () => {
    const { got, seq, pubs } = setup(2);
    seq.track('c');
    seq.position('c', { epoch: pubs[0]!.epoch, offset: 0 });
    seq.push(pubs[5]!);
    await eventually('the publication', () => got.length === 1);
    assert.deepEqual(offsets(got), [6]);
    const other = new MemoryHistory({ size: 10, ttlMs: 1000, metaTtlMs: 1000 }).append('c', 'x', Date.now());
    assert.notEqual(other.epoch, pubs[0]!.epoch);
    seq.push(other);
    assert.deepEqual(
      got.map((p) => `${p.epoch === other.epoch ? 'new' : 'old'}:${p.offset}`),
      ['old:6', 'new:1'],
    );
  });

  it('without history passes gaps through and still drops duplicates; untracked channels are dropped', () => {
    const got: Publication[] = [];
    const seq = new Sequencer((p) => got.push(p), null);
    const h = new MemoryHistory({ size: 10, ttlMs: 1000, metaTtlMs: 1000 });
    const pubs = [1, 2, 3, 4].map((i) => h.append('c', String(i), Date.now()));
    seq.push(pubs[0]!);
    seq.track('c');
    seq.position('c', null);
    seq.push(pubs[0]!);
    seq.push(pubs[2]!);
    seq.push(pubs[2]!);
    seq.push(pubs[1]!);
    seq.push(pubs[3]!);
    assert.deepEqual(offsets(got), [1, 3, 4]);
    seq.untrack('c');
    seq.push(h.append('c', '5', Date.now()));
    assert.equal(got.length, 3);
  });
});
