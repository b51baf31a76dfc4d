import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ControlMessage, Engine } from '../../src/engines/types.js';
import { eventually, sleep } from './conformance.js';

/**
 * The ControlBus conformance suite (engines/types.ts), run against every engine through a
 * factory: `nodes` share one backend (broker and prefix, or one primary), `stranger` is on
 * another one (another prefix, another primary). Each engine is started (PubSub first, as the
 * Node does) before its bus.
 */
export interface ControlFixture {
  /** One node (the memory engine) or two on the same backend. */
  nodes: Engine[];
  /** An engine on another backend: nothing sent on `nodes`' bus may reach it, nor the reverse. */
  stranger: Engine;
  /**
   * Writes `raw` where the nodes' bus reads (the broker's channel or subject, the primary's
   * pipe): frames a peer of another version, or anything else, could write there.
   */
  inject?(raw: string | object): Promise<void>;
  cleanup(): Promise<void>;
}

export interface ControlOptions {
  skip?: string | false;
}

class Inbox {
  readonly got: ControlMessage[] = [];
  readonly handler = (m: ControlMessage): void => {
    this.got.push(m);
  };
}

async function started(engines: Engine[]): Promise<Inbox[]> {
  const boxes: Inbox[] = [];
  for (const e of engines) {
    assert.ok(e.control !== null, `${e.name} has a control bus`);
    await e.pubsub.start(() => undefined);
    const box = new Inbox();
    await e.control.start(box.handler);
    boxes.push(box);
  }
  return boxes;
}

/** Messages that are not ControlMessages, or are in an envelope of another version. */
export const MALFORMED: (string | object)[] = [
  'not json',
  '{"v":2,"from":"x","m":{"t":"disconnect","user":"u"}}',
  '{"v":1,"from":"x","m":{"t":"explode","user":"u"}}',
  '{"v":1,"from":"x","m":{"t":"disconnect","user":""}}',
  '{"v":1,"from":"x","m":{"t":"disconnect","user":7}}',
  '{"v":1,"from":"x","m":{"t":"subscribe","user":"u","channel":"bad channel"}}',
  '{"v":1,"from":"x","m":{"t":"unsubscribe","user":"u"}}',
  `{"v":1,"from":"x","m":{"t":"disconnect","user":"${'u'.repeat(300)}"}}`,
  '[1,2,3]',
  'null',
];

export function runControlConformance(
  name: string,
  make: () => Promise<ControlFixture>,
  opts: ControlOptions = {},
): void {
  describe(`control bus conformance: ${name}`, { skip: opts.skip ?? false }, () => {
    it('delivers a message sent by any node to every node, the sender included, once', async () => {
      const fx = await make();
      try {
        const boxes = await started(fx.nodes);
        const messages: ControlMessage[] = [
          { t: 'disconnect', user: 'alice' },
          { t: 'subscribe', user: 'bob', channel: 'chat:room#1' },
          { t: 'unsubscribe', user: 'bob', channel: 'chat:room#1' },
        ];
        // Each node sends one; each waits until every node has it, so the order is known.
        for (const [i, node] of fx.nodes.entries()) {
          await node.control!.broadcast(messages[i]!);
          for (const box of boxes) await eventually(`message ${i} everywhere`, () => box.got.length > i);
        }
        // Then one sender sends several: every node gets them in the order sent.
        const last = fx.nodes[fx.nodes.length - 1]!;
        for (const m of messages) await last.control!.broadcast(m);
        const total = fx.nodes.length + messages.length;
        for (const box of boxes) await eventually('the burst everywhere', () => box.got.length >= total);
        await sleep(50);
        for (const box of boxes) {
          assert.equal(box.got.length, total, 'each message arrives once');
          assert.deepEqual(box.got.slice(0, fx.nodes.length), messages.slice(0, fx.nodes.length));
          assert.deepEqual(box.got.slice(fx.nodes.length), messages);
        }
      } finally {
        await fx.cleanup();
      }
    });

    it('keeps each backend to itself: nothing crosses to another prefix or primary', async () => {
      const fx = await make();
      try {
        const boxes = await started(fx.nodes);
        const [strangerBox] = await started([fx.stranger]);
        await fx.nodes[0]!.control!.broadcast({ t: 'disconnect', user: 'u1' });
        await fx.stranger.control!.broadcast({ t: 'disconnect', user: 'u2' });
        for (const box of boxes) await eventually('the own message', () => box.got.length === 1);
        await eventually("the stranger's own", () => strangerBox!.got.length === 1);
        await sleep(100);
        for (const box of boxes) assert.deepEqual(box.got, [{ t: 'disconnect', user: 'u1' }]);
        assert.deepEqual(strangerBox!.got, [{ t: 'disconnect', user: 'u2' }]);
      } finally {
        await fx.cleanup();
      }
    });

    it('drops malformed messages on receipt, without throwing, and goes on', async (t) => {
      const fx = await make();
      try {
        if (fx.inject === undefined) {
          t.skip('no other writer can reach this bus');
          return;
        }
        const boxes = await started(fx.nodes);
        for (const raw of MALFORMED) await fx.inject(raw);
        const good: ControlMessage = { t: 'disconnect', user: 'after' };
        await fx.nodes[0]!.control!.broadcast(good);
        for (const box of boxes) await eventually('the valid message', () => box.got.length >= 1);
        await sleep(50);
        for (const box of boxes) assert.deepEqual(box.got, [good]);
      } finally {
        await fx.cleanup();
      }
    });

    it('refuses to send what is not a control message', async () => {
      const fx = await make();
      try {
        const boxes = await started(fx.nodes);
        const bad = { t: 'disconnect', user: '' } as ControlMessage;
        await assert.rejects(fx.nodes[0]!.control!.broadcast(bad));
        await sleep(50);
        for (const box of boxes) assert.equal(box.got.length, 0);
      } finally {
        await fx.cleanup();
      }
    });
  });
}
