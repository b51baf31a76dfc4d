import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { parseNamespaces } from '../../src/config/namespaces.js';
import { ChannelLimitsTable, historyLimits } from '../../src/engines/limits.js';

test('without namespaces every channel has the server limits, one object for all', () => {
  const table = new ChannelLimitsTable({ size: 7, ttlMs: 9000, metaTtlMs: 60_000 });
  const a = table.of('news');
  assert.deepEqual(a, { size: 7, ttlMs: 9000 });
  assert.equal(table.of('chat:room'), a, 'a prefix is no namespace without namespaces');
  assert.deepEqual(table.all(), [a]);
});

test("with namespaces each channel has its namespace's limits; one in none has the server's", () => {
  const namespaces = parseNamespaces(
    { '': { historySize: 3 }, chat: { historySize: 0, historyTtl: 5 }, feed: {} },
    { historySize: 7, historyTtl: 9 },
  );
  const table = new ChannelLimitsTable({ size: 7, ttlMs: 9000, metaTtlMs: 60_000, namespaces });
  assert.deepEqual([table.of('news').size, table.of('news').ttlMs], [3, 9000]);
  assert.equal(table.of('news').namespace?.name, '');
  assert.deepEqual([table.of('chat:a').size, table.of('chat:a').ttlMs], [0, 5000]);
  assert.equal(table.of('chat:a'), table.of('chat:b'), 'one object per namespace');
  assert.deepEqual([table.of('feed:x').size, table.of('feed:x').ttlMs], [7, 9000], 'omitted: the defaults');
  assert.equal(table.of('nope:x'), table.defaults);
  assert.equal(table.all().length, 4);
});

test('historyLimits reads the configuration, namespaces included', () => {
  const config = loadConfig({
    flags: { historySize: 10, historyTtl: 20, historyMetaTtl: 30, namespaces: '{"a": {"historySize": 2}}' },
  });
  const h = historyLimits(config);
  assert.deepEqual([h.size, h.ttlMs, h.metaTtlMs], [10, 20_000, 30_000]);
  assert.equal(new ChannelLimitsTable(h).of('a:x').size, 2);
  assert.equal(historyLimits(loadConfig({})).namespaces, null);
});
