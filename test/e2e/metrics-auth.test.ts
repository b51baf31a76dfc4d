import assert from 'node:assert/strict';
import { test } from 'node:test';
import { once } from '../helpers/http-once.js';
import { API_KEY, startServer } from '../helpers/server.js';

test('/metrics can require the API key: 401 without it, 200 with Bearer (Prometheus) or X-API-Key', async () => {
  const s = await startServer({ metricsRequireKey: true });
  try {
    const none = await once(s.port, '/metrics');
    assert.equal(none.status, 401);
    assert.equal((JSON.parse(none.body) as { error: { code: string } }).error.code, 'unauthorized');
    assert.doesNotMatch(none.body, /holdfast_/);
    assert.equal((await once(s.port, '/metrics', { headers: { authorization: 'Bearer nope' } })).status, 401);
    const bearer = await once(s.port, '/metrics', { headers: { authorization: `Bearer ${API_KEY}` } });
    assert.equal(bearer.status, 200);
    assert.match(bearer.body, /holdfast_/);
    assert.equal((await once(s.port, '/metrics', { headers: { 'x-api-key': API_KEY } })).status, 200);
  } finally {
    await s.close();
  }
});

test('/metrics is open by default', async () => {
  const s = await startServer();
  try {
    assert.equal((await once(s.port, '/metrics')).status, 200);
  } finally {
    await s.close();
  }
});
