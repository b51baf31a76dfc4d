import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Disconnects } from '../../src/contract/codes.js';
import { ParkingSession } from '../../src/transports/poll-park.js';
import type { PollRequest } from '../../src/transports/poll-request.js';
import { FakeTransport } from '../helpers/fake.js';

/** A session that parks when told to, following `channels`. */
class Parking extends ParkingSession {
  readonly channels: string[];

  constructor(channels: string[] = ['a', 'b']) {
    super(new FakeTransport(), 1 << 20);
    this.channels = channels;
  }

  protected emit(): void {}

  parkAt(cursor: string): void {
    this.park(cursor);
  }

  unparkNow(): void {
    this.unpark();
  }
}

const request = (channels: string[], cursor: string | null): PollRequest => ({
  channels,
  cursor,
  origin: undefined,
  token: undefined,
  since: null,
});

test('parked at a cursor: the next poll continues the session with that cursor and the same channels in order', () => {
  const p = new Parking();
  assert.equal(p.parked, false);
  assert.equal(p.resumes(request(['a', 'b'], 'e-1.e-2')), false, 'not parked');
  p.parkAt('e-1.e-2');
  assert.equal(p.parked, true);
  assert.equal(p.resumes(request(['a', 'b'], 'e-1.e-2')), true);
  assert.equal(p.resumes(request(['a', 'b'], 'e-1.e-3')), false, 'another cursor');
  assert.equal(p.resumes(request(['a', 'b'], null)), false, 'no cursor');
  assert.equal(p.resumes(request(['b', 'a'], 'e-1.e-2')), false, 'another order');
  assert.equal(p.resumes(request(['a'], 'e-1.e-2')), false, 'fewer channels');
  assert.equal(p.resumes(request(['a', 'b', 'c'], 'e-1.e-2')), false, 'more channels');
  assert.equal(p.resumes(request(['a,b'], 'e-1.e-2')), false, 'a comma is part of a name');
  p.unparkNow();
  assert.equal(p.parked, false);
  assert.equal(p.resumes(request(['a', 'b'], 'e-1.e-2')), false);
  // A closed session continues nothing.
  p.parkAt('e-1.e-2');
  p.close(Disconnects.normal);
  assert.equal(p.resumes(request(['a', 'b'], 'e-1.e-2')), false);
});

test('the target alone: the last spelling with the parked cursor in place of the one it brought', () => {
  const p = new Parking();
  p.spelledAs('/poll?channel=a&cursor=e-1&channel=b', 'e-1');
  assert.equal(p.resumesTarget('/poll?channel=a&cursor=e-5&channel=b'), false, 'not parked');
  p.parkAt('e-5');
  assert.equal(p.resumesTarget('/poll?channel=a&cursor=e-5&channel=b'), true);
  for (const other of [
    '/poll?channel=a&cursor=e-1&channel=b',
    '/poll?channel=a&cursor=e-5&channel=b&x',
    '/poll?channel=b&cursor=e-5&channel=a',
  ]) {
    assert.equal(p.resumesTarget(other), false, other);
  }
  p.unparkNow();
  assert.equal(p.resumesTarget('/poll?channel=a&cursor=e-5&channel=b'), false, 'unparked');
});

test('a spelling is learnt only when it is unambiguous', () => {
  for (const [target, cursor] of [
    ['/poll?channel=a', null],
    ['/poll?channel=%61&cursor=', ''],
    ['/poll?channel=a+&cursor=', ''],
    ['/poll?channel=a&cursor=&cursor=', ''],
    ['/poll?channel=a&cursor=x', ''],
    ['/poll?channel=acursor=', ''],
  ] as const) {
    const p = new Parking();
    p.spelledAs(target, cursor);
    p.parkAt('e-9');
    assert.equal(p.resumesTarget(target.replace(/cursor=[^&]*/, 'cursor=e-9')), false, target);
  }
  // A learnt spelling is forgotten by one that cannot be learnt.
  const p = new Parking();
  p.spelledAs('/poll?channel=a&cursor=', '');
  p.spelledAs('/poll?channel=%61&cursor=', '');
  p.parkAt('e-9');
  assert.equal(p.resumesTarget('/poll?channel=a&cursor=e-9'), false);
});
