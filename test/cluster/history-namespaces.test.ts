import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnServer } from '../helpers/proc.js';

/** The primary's history (cluster engine) keeps what each channel's namespace says. */
test('a cluster keeps each namespace its own history size', { timeout: 60_000 }, async () => {
  const namespaces = { '': { historySize: 3 }, big: { historySize: 8 }, none: { historySize: 0 } };
  const srv = await spawnServer(['--workers', '2', '--history-size', '5'], 'test-key', {
    HOLDFAST_NAMESPACES: JSON.stringify(namespaces),
  });
  const headers = { 'content-type': 'application/json', 'x-api-key': 'test-key' };
  try {
    for (let i = 1; i <= 10; i++) {
      for (const channel of ['news', 'big:news', 'none:news']) {
        const res = await fetch(`${srv.base}/api/publish`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ channel, data: i }),
        });
        assert.equal(res.status, 200);
      }
    }
    const kept = async (channel: string): Promise<{ offset: number; kept: number[] }> => {
      const res = await fetch(
        `${srv.base}/api/history?channel=${encodeURIComponent(channel)}&since=0&limit=100`,
        {
          headers,
        },
      );
      const body = (await res.json()) as { offset: number; messages: { offset: number }[] };
      return { offset: body.offset, kept: body.messages.map((m) => m.offset) };
    };
    assert.deepEqual(await kept('news'), { offset: 10, kept: [8, 9, 10] });
    assert.deepEqual(await kept('big:news'), { offset: 10, kept: [3, 4, 5, 6, 7, 8, 9, 10] });
    assert.deepEqual(await kept('none:news'), { offset: 10, kept: [] });
  } finally {
    await srv.stop();
  }
});
