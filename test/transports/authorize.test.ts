import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { connectInfo } from '../../src/transports/authorize.js';
import { NodeHeaders } from '../../src/transports/request.js';

test('connectInfo forwards the proxyHeaders however the option spells them, by lower-case name', () => {
  const config = loadConfig({
    flags: {
      logLevel: 'silent',
      connectProxy: 'http://127.0.0.1:1/connect',
      allowedOrigins: 'https://app.test',
      proxyHeaders: ['Cookie', ' Authorization ', 'x-missing'],
    },
  });
  // node:http's headers are lower-case; so are the fast path's (http1/head.ts).
  const headers = new NodeHeaders({ cookie: 'sid=1', authorization: 'Bearer t', host: 'h' });
  const c = connectInfo('sse', undefined, headers, '127.0.0.1', config);
  assert.deepEqual(c.headers, { cookie: 'sid=1', authorization: 'Bearer t' });
  const fast = new Map([['cookie', 'sid=2']]);
  assert.deepEqual(connectInfo('poll', undefined, fast, '', config).headers, { cookie: 'sid=2' });
});

test('connectInfo copies no header where no proxy is configured', () => {
  const config = loadConfig({ flags: { logLevel: 'silent', tokenHmacSecret: 'x'.repeat(32) } });
  const c = connectInfo('ws', 't', new NodeHeaders({ cookie: 'sid=1' }), undefined, config);
  assert.deepEqual(c, { transport: 'ws', token: 't', headers: {}, remoteAddr: '' });
});
