import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { json, TestBackend } from '../helpers/proxy-backend.js';
import { startServer } from '../helpers/server.js';
import { TestWs } from '../helpers/ws-client.js';

/**
 * Cross-site WebSocket hijacking. With the connect proxy, a browser's cookies are its
 * credentials, and a WebSocket has no CORS: a page on any site can open one to Holdfast, the
 * browser adds the user's cookies, the backend recognises the user, and the page reads the
 * user's channels. The Origin check (allowedOrigins) is the only door, so a connect proxy needs
 * it set: `*` is refused at boot, and a listed origin keeps other sites out.
 */

test('a connect proxy with allowedOrigins "*" is refused at boot', () => {
  assert.throws(
    () => loadConfig({ flags: { logLevel: 'silent', connectProxy: 'http://127.0.0.1:9/connect' } }),
    (err: unknown) => err instanceof ConfigError && /allowedOrigins/.test(err.message),
  );
  assert.doesNotThrow(() =>
    loadConfig({
      flags: {
        logLevel: 'silent',
        connectProxy: 'http://127.0.0.1:9/connect',
        allowedOrigins: 'https://app.test',
      },
    }),
  );
});

test("a page on another site cannot ride the user's cookies into their channels", async () => {
  const backend = new TestBackend();
  backend.handler = (req, res) => {
    const cookie = (req.body as { headers: Record<string, string> }).headers['cookie'] ?? '';
    if (cookie === 'sid=victim') json(res, 200, { user: 'victim' });
    else json(res, 401, {});
  };
  const url = await backend.start();
  const s = await startServer({ connectProxy: `${url}/connect`, allowedOrigins: 'https://app.test' });
  try {
    const cookie = { cookie: 'sid=victim' };
    // The application's own page gets in, and into the user's channel.
    const own = await TestWs.connect(s.wsUrl, { headers: { ...cookie, origin: 'https://app.test' } });
    assert.equal((await own.request({ id: 1, op: 'subscribe', channel: 'feed#victim' }))['ok'], true);
    own.close();
    // Another site's page, with the same cookies (the browser adds them): refused at the upgrade.
    await assert.rejects(
      TestWs.connect(s.wsUrl, { headers: { ...cookie, origin: 'https://evil.test' } }),
      /403/,
    );
  } finally {
    await s.close();
    await backend.stop();
  }
});
