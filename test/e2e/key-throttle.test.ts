import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/observe/log.js';
import { createEngine, HoldfastServer } from '../../src/server/server.js';
import { once } from '../helpers/http-once.js';
import { spawnServer } from '../helpers/proc.js';
import { API_KEY, startServer } from '../helpers/server.js';

// Clients on loopback bind distinct source addresses (127.0.0.2, 127.0.0.3, ...).

const api = (port: number, key: string, from: string) =>
  once(port, '/api/channels', { headers: { 'x-api-key': key }, localAddress: from });

test('wrong API keys from one address are throttled (429, Retry-After), other addresses are not', async () => {
  const s = await startServer({ keyFailuresPerMinute: 3 });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await api(s.port, `guess-${i}`, '127.0.0.2')).status, 401);
    const blocked = await api(s.port, 'guess-3', '127.0.0.2');
    assert.equal(blocked.status, 429);
    assert.match(String(blocked.headers['retry-after']), /^[1-9]\d*$/);
    const body = JSON.parse(blocked.body) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'too_many_attempts');
    assert.equal(typeof body.error.message, 'string');
    assert.equal((await api(s.port, API_KEY, '127.0.0.2')).status, 429, 'not even the right key is checked');

    // The dashboard's login form and X-API-Key share the throttle.
    const form = await once(s.port, '/dashboard/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `key=${API_KEY}`,
      localAddress: '127.0.0.2',
    });
    assert.equal(form.status, 429);
    assert.ok(form.headers['retry-after'] !== undefined);
    const page = await once(s.port, '/dashboard', {
      headers: { 'x-api-key': API_KEY },
      localAddress: '127.0.0.2',
    });
    assert.equal(page.status, 429);

    assert.equal((await api(s.port, API_KEY, '127.0.0.3')).status, 200, 'another address is not affected');
    assert.equal((await api(s.port, 'guess', '127.0.0.3')).status, 401);
  } finally {
    await s.close();
  }
});

test('wrong keys typed into the dashboard login form count too', async () => {
  const s = await startServer({ keyFailuresPerMinute: 2 });
  try {
    const tryKey = (key: string) =>
      once(s.port, '/dashboard/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ key }).toString(),
        localAddress: '127.0.0.4',
      });
    assert.equal((await tryKey('a')).status, 401);
    assert.equal((await tryKey('b')).status, 401);
    assert.equal((await tryKey(API_KEY)).status, 429);
    assert.equal((await api(s.port, API_KEY, '127.0.0.4')).status, 429);
  } finally {
    await s.close();
  }
});

test('requests without a key are refused without counting as guesses', async () => {
  const s = await startServer({ keyFailuresPerMinute: 2 });
  try {
    for (let i = 0; i < 5; i++) {
      assert.equal((await once(s.port, '/api/channels', { localAddress: '127.0.0.5' })).status, 401);
    }
    assert.equal((await api(s.port, API_KEY, '127.0.0.5')).status, 200);
  } finally {
    await s.close();
  }
});

test('behind a trusted proxy the client address is the last X-Forwarded-For entry', async () => {
  const s = await startServer({ keyFailuresPerMinute: 1, trustProxy: true });
  try {
    const via = (key: string, xff: string) =>
      once(s.port, '/api/channels', { headers: { 'x-api-key': key, 'x-forwarded-for': xff } });
    assert.equal((await via('guess', '203.0.113.7')).status, 401);
    assert.equal(
      (await via(API_KEY, '198.51.100.1, 203.0.113.7')).status,
      429,
      'a forged first entry does not help',
    );
    assert.equal((await via(API_KEY, '203.0.113.8')).status, 200, 'another client behind the same proxy');
  } finally {
    await s.close();
  }
});

test('behind a trusted proxy a port on the forwarded address does not make a client many (it was never throttled)', async () => {
  const s = await startServer({ keyFailuresPerMinute: 2, trustProxy: true });
  try {
    const via = (key: string, xff: string) =>
      once(s.port, '/api/channels', { headers: { 'x-api-key': key, 'x-forwarded-for': xff } });
    assert.equal((await via('guess', '10.7.7.7:51')).status, 401);
    assert.equal((await via('guess', '10.7.7.7:52')).status, 401);
    assert.equal((await via('guess', '10.7.7.7:53')).status, 429);
    assert.equal((await via(API_KEY, '10.7.7.7')).status, 429, 'the same client without a port');
    assert.equal((await via('guess', '[2001:db8::7]:1')).status, 401);
    assert.equal((await via('guess', '[2001:db8::7]:2')).status, 401);
    assert.equal((await via('guess', '[2001:db8::7]:3')).status, 429);
    assert.equal((await via(API_KEY, '10.7.7.8:51')).status, 200, 'another client');
  } finally {
    await s.close();
  }
});

test('an address that becomes blocked is logged as a warning, once in its window', async () => {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('warn', {}, 'json', {
    write: (line: string) => {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  const config = loadConfig({
    flags: { port: 0, host: '127.0.0.1', apiKey: API_KEY, keyFailuresPerMinute: 2 },
  });
  const server = new HoldfastServer(config, createEngine(config), { log });
  const port = await server.listen(0, '127.0.0.1');
  try {
    const throttled = () => lines.filter((l) => l['key'] === 'key_throttled');
    assert.equal((await api(port, 'guess-1', '127.0.0.6')).status, 401);
    assert.equal(throttled().length, 0);
    assert.equal((await api(port, 'guess-2', '127.0.0.6')).status, 401);
    for (let i = 0; i < 3; i++) assert.equal((await api(port, API_KEY, '127.0.0.6')).status, 429);
    const [line, ...more] = throttled();
    assert.deepEqual(more, [], 'one line for the address in its window');
    assert.equal(line?.['level'], 40, 'a warning');
    assert.equal(line?.['address'], '127.0.0.6');
    assert.match(String(line?.['msg']), /429/);
    assert.equal((await api(port, 'guess', '127.0.0.7')).status, 401);
    assert.equal((await api(port, 'guess', '127.0.0.7')).status, 401);
    assert.deepEqual(
      throttled().map((l) => l['address']),
      ['127.0.0.6', '127.0.0.7'],
    );
  } finally {
    await server.close();
  }
});

test('a key shorter than 16 characters gets a warning at start', { timeout: 30_000 }, async () => {
  const srv = await spawnServer(['--workers', '1'], 'short-key');
  try {
    const deadline = Date.now() + 10_000;
    while (!/shorter than 16 characters/.test(srv.stdout() + srv.stderr()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.match(srv.stdout() + srv.stderr(), /API key is shorter than 16 characters/);
  } finally {
    await srv.stop();
  }
  const long = await spawnServer(['--workers', '1'], 'a-long-enough-random-key');
  try {
    assert.doesNotMatch(long.stdout() + long.stderr(), /shorter than 16/);
  } finally {
    await long.stop();
  }
});
