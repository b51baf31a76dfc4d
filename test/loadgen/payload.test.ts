import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { payloadJson, payloadText, scanMarkers } from '../../src/loadgen/payload.js';

type Hit = [number, number, number];

function scanAll(text: string): Hit[] {
  const hits: Hit[] = [];
  scanMarkers(text, (c, s, t) => hits.push([c, s, t]));
  return hits;
}

/** Feeds `text` in pieces cut at `cuts`, keeping the tail like a client does. */
function scanChunks(text: string, cuts: number[]): Hit[] {
  const hits: Hit[] = [];
  let carry = '';
  let prev = 0;
  for (const cut of [...cuts, text.length]) {
    const chunk = carry + text.slice(prev, cut);
    prev = cut;
    const rest = scanMarkers(chunk, (c, s, t) => hits.push([c, s, t]));
    carry = rest === -1 ? '' : chunk.slice(rest);
  }
  return hits;
}

describe('payload', () => {
  it('has the requested size', () => {
    assert.equal(payloadText(3, 17, 1764000000123.456, 100).length, 100);
    assert.equal(Buffer.byteLength(payloadJson(3, 17, 1764000000123.456, 64)), 64);
    // Too small to pad: the marker alone.
    assert.equal(payloadText(3, 17, 1, 5), 'HFB[3,17,1.000]');
  });

  it('is found in any envelope, even encoded twice', () => {
    const data = payloadJson(2, 9, 1000.5, 80);
    const ws = JSON.stringify({ op: 'message', channel: 'c', offset: 9, data: JSON.parse(data) });
    assert.deepEqual(scanAll(ws), [[2, 9, 1000.5]]);
    const twice = JSON.stringify({ payload: JSON.stringify({ data: JSON.parse(data) }) });
    assert.deepEqual(scanAll(twice), [[2, 9, 1000.5]]);
  });

  it('finds every marker of a long-poll answer', () => {
    const msgs = [1, 2, 3].map((s) => `{"channel":"a","offset":${s},"data":${payloadJson(0, s, 5, 50)}}`);
    const body = `{"cursor":"x-3","messages":[${msgs.join(',')}]}`;
    assert.deepEqual(scanAll(body), [
      [0, 1, 5],
      [0, 2, 5],
      [0, 3, 5],
    ]);
  });

  it('ignores malformed markers', () => {
    assert.deepEqual(scanAll('HFB[x,1,2] HFB[1,,2] HFB[1,0,2] HFB[1,2,] HFB[1,2,3]'), [[1, 2, 3]]);
  });

  it('finds markers split across chunks at any position', () => {
    const text = `data: ${payloadJson(1, 41, 123.25, 60)}\n\ndata: ${payloadJson(4, 42, 124.5, 60)}\n\n`;
    for (let a = 0; a < text.length; a++) {
      for (const b of [a + 1, a + 7, a + 40]) {
        const cuts = b < text.length ? [a, b] : [a];
        assert.deepEqual(
          scanChunks(text, cuts),
          [
            [1, 41, 123.25],
            [4, 42, 124.5],
          ],
          `cut at ${cuts}`,
        );
      }
    }
  });
});
