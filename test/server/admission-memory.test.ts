import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterHub } from '../../src/cluster/hub.js';
import { portPair } from '../../src/engines/cluster/engine.js';
import type { ToPrimary, ToWorker } from '../../src/engines/cluster/protocol.js';
import { Admission } from '../../src/server/admission.js';

const limits = { maxConnections: 0, maxNewPerSecond: 0, memoryWatermarkBytes: 1000 };

test('the memory watermark counts another process (the cluster primary) too', () => {
  let primary = 0;
  const a = new Admission(
    limits,
    () => 0,
    () => 10,
  );
  try {
    a.countAlso(() => primary);
    assert.equal(a.check(), null, 'unknown yet: only the own RSS counts');
    primary = 999;
    assert.equal(a.check(), null);
    primary = 1001;
    assert.equal(a.check(), 'memory', 'the primary over the watermark refuses new connections');
    primary = 10;
    assert.equal(a.check(), null);
  } finally {
    a.stop();
  }
});

test('the primary tells every worker its RSS over the cluster IPC', async () => {
  const hub = new ClusterHub({ size: 10, ttlMs: 1000, metaTtlMs: 1000 });
  const got: number[] = [];
  for (let i = 1; i <= 2; i++) {
    const [toWorker, toPrimary] = portPair<ToPrimary, ToWorker>();
    hub.attach(i, toWorker);
    toPrimary.onMessage((m) => {
      if (m.t === 'primary-memory') got.push(m.rss);
    });
  }
  hub.broadcastMemory(12345);
  while (got.length < 2) await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, [12345, 12345]);
  await hub.close();
});
