import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { installFastPath } from '../../src/transports/http1/fastpath.js';
import type { RequestHead } from '../../src/transports/http1/head.js';

let http: Server;
let port = 0;
const taken: RequestHead[] = [];
let admitting = true;

before(async () => {
  http = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => res.end(`http ${req.method} ${req.url} ${body}`));
  });
  http.on('upgrade', (req, socket) => {
    socket.end(`HTTP/1.1 101 Switching Protocols\r\nX-Url: ${req.url}\r\n\r\n`);
  });
  installFastPath(
    http,
    [
      { take: () => false },
      {
        take(head, socket) {
          if (!head.target.startsWith('/take')) return false;
          taken.push(head);
          socket.end(`HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nfast ${head.target}`);
          return true;
        },
      },
    ],
    { admit: () => admitting, accepting: () => admitting, maxHeadBytes: 1024, firstBytesTimeoutMs: 300 },
  );
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  port = (http.address() as { port: number }).port;
});
after(() => http.close());

/** Sends raw bytes (in pieces, each after a pause) and returns everything the server sent until it closed. */
async function exchange(...pieces: string[]): Promise<string> {
  const s: Socket = connect(port, '127.0.0.1');
  const closed = once(s, 'close');
  await once(s, 'connect');
  let got = '';
  s.on('data', (d: Buffer) => {
    got += d.toString();
  });
  for (const p of pieces) {
    s.write(p);
    await new Promise((r) => setTimeout(r, 30));
  }
  if (!s.destroyed) s.end();
  await closed;
  return got;
}

test('a GET the route takes is served from the socket', async () => {
  const got = await exchange('GET /take?x=1 HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.match(got, /fast \/take\?x=1$/);
  assert.equal(taken.at(-1)?.headers.get('host'), 'a');
});

test('declined, non-GET, partial-head, pipelined and upgrade requests reach node:http intact', async () => {
  assert.match(await exchange('GET /other HTTP/1.1\r\nHost: a\r\n\r\n'), /http GET \/other $/);
  assert.match(
    await exchange('POST /take HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody'),
    /http POST \/take body$/,
  );
  assert.match(await exchange('GET /take HTTP/1.1\r\n', 'Host: a\r\n\r\n'), /http GET \/take $/);
  const two = await exchange('GET /take HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.match(two, /http GET \/take [\s\S]*http GET \/second $/);
  assert.match(
    await exchange('GET /take HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
    /^HTTP\/1.1 101 Switching Protocols\r\nX-Url: \/take/,
  );
});

test('keep-alive: node:http serves every request on a connection handed to it', async () => {
  const got = await exchange(
    'GET /a HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET /take HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
  );
  assert.equal((got.match(/HTTP\/1.1 200 OK/g) ?? []).length, 3);
  assert.match(got, /http GET \/a [\s\S]*http GET \/take [\s\S]*http GET \/c $/);
});

test('a connection that sends nothing is closed at the first-bytes time-out, not before', async (t) => {
  // The sweep's clock and timer are mocked (its own server, so no sweeper of another test runs).
  t.mock.timers.enable({ apis: ['setInterval', 'Date'] });
  const quiet = createServer();
  installFastPath(quiet, [], {
    admit: () => true,
    accepting: () => true,
    maxHeadBytes: 1024,
    firstBytesTimeoutMs: 300,
  });
  quiet.listen(0, '127.0.0.1');
  await once(quiet, 'listening');
  try {
    const accepted = once(quiet, 'connection') as Promise<[Socket]>;
    const s = connect((quiet.address() as AddressInfo).port, '127.0.0.1');
    const closed = once(s, 'close');
    s.resume();
    const [serverSide] = await accepted;
    t.mock.timers.tick(299);
    assert.equal(serverSide.destroyed, false, 'open until the time-out');
    t.mock.timers.tick(1);
    assert.equal(serverSide.destroyed, true, 'closed at the time-out');
    await closed;
  } finally {
    quiet.close();
  }
});

test('while not admitting (e.g. draining), every request goes to node:http', async () => {
  admitting = false;
  try {
    assert.match(await exchange('GET /take HTTP/1.1\r\nHost: a\r\n\r\n'), /http GET \/take $/);
  } finally {
    admitting = true;
  }
});

test('a peer that half-closes before sending a request is closed at once, not at the time-out', {
  timeout: 10_000,
}, async () => {
  // A fast path whose first-bytes time-out (60 s) is far beyond this test's time-out: only the
  // half-close can end the connection in time.
  const slow = createServer((_req, res) => res.end());
  installFastPath(slow, [], {
    admit: () => true,
    accepting: () => true,
    maxHeadBytes: 1024,
    firstBytesTimeoutMs: 60_000,
  });
  slow.listen(0, '127.0.0.1');
  await once(slow, 'listening');
  const s = connect((slow.address() as { port: number }).port, '127.0.0.1');
  await once(s, 'connect');
  const closed = once(s, 'close');
  s.resume();
  s.end();
  await closed;
  slow.close();
});
