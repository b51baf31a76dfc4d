import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AccessControl } from '../../src/auth/access.js';
import { loadConfig } from '../../src/config/config.js';
import { Node } from '../../src/core/node.js';
import { TimerWheel } from '../../src/core/wheel.js';
import { MemoryEngine } from '../../src/engines/memory/engine.js';
import { type PollReply, PollServer, PollSession } from '../../src/transports/poll.js';

/** A reply that keeps its connection (so the session parks) and records what it sent. */
class KeptReply implements PollReply {
  done = false;
  readonly bodies: string[] = [];
  keeps(): boolean {
    return !this.done;
  }
  send(_status: number, body: string): void {
    this.done = true;
    this.bodies.push(body);
  }
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Starts a poll for channels a and b spelled as `target`, answers it with one message, parks it. */
async function parkedSession(target: string, cursor: string | null) {
  const node = new Node(new MemoryEngine({ size: 100, ttlMs: 60_000, metaTtlMs: 600_000 }), {
    maxRecover: 100,
  });
  await node.start();
  const wheel = new TimerWheel(100);
  const server = new PollServer(node, loadConfig(), wheel, new AccessControl(loadConfig()));
  const reply = new KeptReply();
  const session = new PollSession(server, reply, ['a', 'b'], {});
  session.spelledAs(target, cursor);
  await server.start(session, null);
  await node.publish('a', '1');
  await settle();
  assert.equal(reply.bodies.length, 1, 'answered');
  assert.equal(session.parked, true);
  const answered = (JSON.parse(reply.bodies[0]!) as { cursor: string }).cursor;
  return { session, answered, stop: () => wheel.stop() };
}

test('a parked poll is recognised by its exact target: the last spelling with the cursor just answered', async () => {
  const { session, answered, stop } = await parkedSession('/poll?channel=a&channel=b&cursor=', '');
  try {
    assert.equal(session.resumesTarget(`/poll?channel=a&channel=b&cursor=${answered}`), true);
    // Anything else is left to the parameters (resumes()), which decide.
    for (const other of [
      '/poll?channel=a&channel=b&cursor=',
      `/poll?channel=a&channel=b&cursor=${answered}x`,
      `/poll?channel=a&channel=b&cursor=${answered}&channel=c`,
      `/poll?channel=b&channel=a&cursor=${answered}`,
      `/poll?channel=a,b&cursor=${answered}`,
    ]) {
      assert.equal(session.resumesTarget(other), false, other);
    }
  } finally {
    stop();
  }
});

test('the cursor may sit anywhere in the query; the spelling is learnt only when it is unambiguous', async () => {
  const middle = await parkedSession('/poll?channel=a&cursor=&channel=b', '');
  try {
    assert.equal(middle.session.resumesTarget(`/poll?channel=a&cursor=${middle.answered}&channel=b`), true);
  } finally {
    middle.stop();
  }
  // Not learnt: no cursor parameter, a percent-escape, two cursor parameters, a cursor value that
  // is not the one given (the parameters decoded it differently), a `cursor=` inside a value.
  for (const [target, cursor] of [
    ['/poll?channel=a&channel=b', null],
    ['/poll?channel=a&channel=%62&cursor=', ''],
    ['/poll?channel=a&channel=b&cursor=&cursor=', ''],
    ['/poll?channel=a&channel=b&cursor=x', ''],
    ['/poll?channel=a&channel=bcursor=', ''],
  ] as const) {
    const p = await parkedSession(target, cursor);
    try {
      const guess = target.replace(/cursor=[^&]*/, `cursor=${p.answered}`);
      assert.equal(p.session.resumesTarget(guess), false, target);
    } finally {
      p.stop();
    }
  }
});

test('a long-poll with an identity is no presence member (each poll is a session of its own)', async () => {
  const config = loadConfig({ flags: { namespaces: { room: { presence: true, joinLeave: true } } } });
  const node = new Node(new MemoryEngine({ size: 100, ttlMs: 60_000, metaTtlMs: 600_000 }), {
    maxRecover: 100,
    namespaces: config.namespaceTable,
  });
  await node.start();
  const wheel = new TimerWheel(100);
  try {
    const server = new PollServer(node, config, wheel, new AccessControl(config));
    const session = new PollSession(server, new KeptReply(), ['room:1'], {});
    session.identity = { user: 'alice', info: undefined, channels: [], expiresAt: 0 };
    await server.start(session, null);
    assert.equal(session.subscriptions.has('room:1'), true);
    assert.deepEqual(await node.presence.members('room:1'), []);
  } finally {
    wheel.stop();
  }
});
