import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { startServer } from '../helpers/server.js';

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One raw connection; `responses()` splits what arrived into complete responses (content-length framed). */
async function open(
  port: number,
  allowHalfOpen = false,
): Promise<{ socket: Socket; responses: () => { head: string; body: string }[] }> {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen });
  await once(socket, 'connect');
  let text = '';
  socket.on('data', (d: Buffer) => {
    text += d.toString();
  });
  const responses = (): { head: string; body: string }[] => {
    const out: { head: string; body: string }[] = [];
    let rest = text;
    for (;;) {
      const end = rest.indexOf('\r\n\r\n');
      if (end < 0) return out;
      const head = rest.slice(0, end);
      const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (rest.length < end + 4 + len) return out;
      out.push({ head, body: rest.slice(end + 4, end + 4 + len) });
      rest = rest.slice(end + 4 + len);
    }
  };
  return { socket, responses };
}

const get = (target: string): string => `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`;

test('long-poll on the fast path: held, answered on publish, next polls on the same connection', async () => {
  const s = await startServer({ pollTimeout: 300 });
  try {
    const c = await open(s.port);
    c.socket.write(get('/poll?channel=pf'));
    await until(() => s.server.poll.sessions.size === 1);
    const { epoch, offset } = await s.publish('pf', 'one');
    await until(() => c.responses().length === 1);
    const first = c.responses()[0]!;
    assert.match(first.head, /^HTTP\/1.1 200 OK\r\n/);
    assert.match(first.head, /\r\nconnection: keep-alive/);
    assert.doesNotMatch(first.head, /Keep-Alive: timeout/); // written by the fast path, not node:http
    const body = JSON.parse(first.body) as { cursor: string; messages: unknown[] };
    assert.equal(body.cursor, `${epoch}-${offset}`);
    assert.deepEqual(body.messages, [{ channel: 'pf', offset, data: 'one' }]);
    // The session stays, parked on the connection, subscribed.
    assert.equal(s.server.poll.sessions.size, 1);
    const parked = [...s.server.poll.sessions][0]!;
    assert.equal(parked.parked, true);

    // The next poll on the same connection, from the cursor: answered at once with what was
    // published in between, by the same session.
    await s.publish('pf', 'two');
    c.socket.write(get(`/poll?channel=pf&cursor=${body.cursor}`));
    await until(() => c.responses().length === 2);
    const second = JSON.parse(c.responses()[1]!.body) as { cursor: string; messages: { data: string }[] };
    assert.deepEqual(
      second.messages.map((m) => m.data),
      ['two'],
    );
    assert.deepEqual([...s.server.poll.sessions], [parked]);

    // From an older cursor: the parked session ends and a new one reads the history from there.
    c.socket.write(get(`/poll?channel=pf&cursor=${body.cursor}`));
    await until(() => c.responses().length === 3);
    const again = JSON.parse(c.responses()[2]!.body) as { cursor: string; messages: { data: string }[] };
    assert.deepEqual(
      again.messages.map((m) => m.data),
      ['two'],
    );
    assert.equal(again.cursor, second.cursor);
    assert.equal(parked.closed, true);
    assert.equal(s.server.poll.sessions.size, 1);
    assert.notEqual([...s.server.poll.sessions][0], parked);

    // Other channels from the same connection: a new session, the parked one ends.
    const beforeOther = [...s.server.poll.sessions][0]!;
    c.socket.write(get(`/poll?channel=pf-other&cursor=`));
    await until(() => s.server.poll.sessions.size === 1 && !s.server.poll.sessions.has(beforeOther));
    assert.equal(beforeOther.closed, true);
    await s.publish('pf-other', 'three');
    await until(() => c.responses().length === 4);
    assert.deepEqual(
      (JSON.parse(c.responses()[3]!.body) as { messages: { data: string }[] }).messages.map((m) => m.data),
      ['three'],
    );
    // A parked session leaves its channels when its connection closes (a second connection).
    const d = await open(s.port);
    d.socket.write(get('/poll?channel=pf-close'));
    await until(() => s.server.poll.sessions.size === 2);
    await s.publish('pf-close', 'x');
    await until(() => d.responses().length === 1);
    assert.ok([...s.server.poll.sessions].every((p) => p.parked));
    d.socket.destroy();
    await until(() => s.server.poll.sessions.size === 1);
    assert.deepEqual(
      s.server.node.channels().map((x) => x.channel),
      ['pf-other'],
    );

    // An error goes through node:http, on the same connection; as any request that does not
    // continue the parked session, it ends that session.
    c.socket.write(get('/poll?channel=pf-other&cursor=broken'));
    await until(() => c.responses().length === 5);
    assert.match(c.responses()[4]!.head, /^HTTP\/1.1 400 /);
    assert.equal(s.server.poll.sessions.size, 0);
    assert.equal(s.server.node.channels().length, 0);
    c.socket.destroy();
  } finally {
    await s.close();
  }
});

test('a client that leaves during the hold is cleaned up; shutdown answers held polls', async () => {
  const s = await startServer({ pollTimeout: 300 });
  try {
    const a = await open(s.port);
    a.socket.write(get('/poll?channel=gone'));
    await until(() => s.server.poll.sessions.size === 1);
    a.socket.destroy();
    await until(() => s.server.poll.sessions.size === 0);
    assert.equal(s.server.node.channels().length, 0);

    // A keep-alive poll from a client that never closes its side: shutdown answers it with
    // `connection: close` and closes the socket itself.
    const b = await open(s.port, true);
    b.socket.write(get('/poll?channel=held'));
    await until(() => s.server.poll.sessions.size === 1);
    const ended = once(b.socket, 'end');
    await s.close(); // resolves only once the server has closed every socket
    await ended;
    b.socket.destroy();
    const [r] = b.responses();
    assert.match(r!.head, /^HTTP\/1.1 200 OK\r\n[\s\S]*connection: close/);
    assert.deepEqual((JSON.parse(r!.body) as { messages: unknown[] }).messages, []);
  } finally {
    await s.close().catch(() => undefined);
  }
});

test('shutdown answering a held poll whose client has just half-closed writes nothing, and does not crash', async () => {
  const s = await startServer({ pollTimeout: 300 });
  try {
    const c = await open(s.port, true);
    c.socket.write(get('/poll?channel=pf-half'));
    await until(() => s.server.poll.sessions.size === 1);
    const session = [...s.server.poll.sessions][0]!;
    const serverSide = (session as unknown as { transport: { reply: { socket: Socket } } }).transport.reply
      .socket;
    const errors: Error[] = [];
    serverSide.on('error', (e: Error) => errors.push(e));
    // Runs after the fast path's own 'end' listener, which ended the server's side: the window
    // in which a draining server answered held polls with a write after end (a worker crashed).
    const answered = new Promise<void>((resolve) => {
      serverSide.once('end', () => {
        s.server.poll.close();
        resolve();
      });
    });
    c.socket.end();
    await answered;
    await once(serverSide, 'close');
    assert.deepEqual(errors, []);
    assert.equal(s.server.poll.sessions.size, 0);
    assert.equal(c.responses().length, 0);
  } finally {
    await s.close();
  }
});

test('a parked long-poll session ends at the poll time-out when no next poll comes, and at shutdown', async () => {
  const s = await startServer({ pollTimeout: 1 });
  try {
    const c = await open(s.port);
    c.socket.write(get('/poll?channel=pk'));
    // The hold times out (1 s) with an empty answer; the session parks on the connection.
    await until(() => c.responses().length === 1);
    assert.equal(s.server.poll.sessions.size, 1);
    assert.equal([...s.server.poll.sessions][0]!.parked, true);
    // No next poll: it ends one poll time-out later and leaves its channel; the connection stays.
    await until(() => s.server.poll.sessions.size === 0);
    assert.equal(s.server.node.channels().length, 0);
    assert.equal(c.socket.destroyed, false);
    c.socket.destroy();
  } finally {
    await s.close();
  }

  const t = await startServer({ pollTimeout: 300 });
  try {
    const d = await open(t.port, true);
    d.socket.write(get('/poll?channel=pk2'));
    await until(() => t.server.poll.sessions.size === 1);
    await t.publish('pk2', 'x');
    await until(() => d.responses().length === 1);
    assert.equal([...t.server.poll.sessions][0]!.parked, true);
    const ended = once(d.socket, 'end');
    await t.close();
    await ended;
    d.socket.destroy();
    assert.equal(t.server.poll.sessions.size, 0);
    assert.equal(t.server.node.channels().length, 0);
  } finally {
    await t.close().catch(() => undefined);
  }
});

test('a parked session is continued by its channels however written, in their order only', async () => {
  const s = await startServer({ pollTimeout: 300 });
  try {
    const c = await open(s.port);
    c.socket.write(get('/poll?channel=m1&channel=m2'));
    await until(() => s.server.poll.sessions.size === 1);
    const session = [...s.server.poll.sessions][0]!;
    await s.publish('m2', 'a');
    await until(() => c.responses().length === 1);
    let cursor = (JSON.parse(c.responses()[0]!.body) as { cursor: string }).cursor;
    // A repeat, and another spelling: the same list, the same session.
    c.socket.write(get(`/poll?channel=m1&channel=%6D2&channel=m1&cursor=${cursor}`));
    await until(() => session.parked === false);
    await s.publish('m1', 'b');
    await until(() => c.responses().length === 2);
    const second = JSON.parse(c.responses()[1]!.body) as { cursor: string; messages: { data: string }[] };
    assert.deepEqual(
      second.messages.map((m) => m.data),
      ['b'],
    );
    assert.deepEqual([...s.server.poll.sessions], [session]);
    cursor = second.cursor;
    // The same channels in another order: the cursor's positions would be read the other way.
    c.socket.write(get(`/poll?channel=m2&channel=m1&cursor=${cursor.split('.').reverse().join('.')}`));
    await until(() => session.closed);
    await until(() => s.server.poll.sessions.size === 1);
    assert.notEqual([...s.server.poll.sessions][0], session);
    c.socket.destroy();
  } finally {
    await s.close();
  }
});

test('between polls: no next request within the headers time-out closes the connection; a half-close closes it at once; another request is routed', async () => {
  const s = await startServer({ pollTimeout: 300, headersTimeout: 1 });
  try {
    const answeredAndParked = async (channel: string) => {
      const c = await open(s.port, true);
      c.socket.write(get(`/poll?channel=${channel}`));
      await until(() => [...s.server.poll.sessions].some((x) => x.channels[0] === channel));
      await s.publish(channel, 'x');
      await until(() => c.responses().length === 1);
      const session = [...s.server.poll.sessions].find((x) => x.channels[0] === channel)!;
      assert.equal(session.parked, true);
      return { c, session };
    };

    // Silent: closed by the server about a second later, and the parked session ends with it.
    const silent = await answeredAndParked('bt1');
    await once(silent.c.socket, 'end'); // the client allows half-open: the server's FIN is 'end'
    await until(() => silent.session.closed);
    silent.c.socket.destroy();

    // Half-closed between polls: closed at once (it can send no next request).
    const half = await answeredAndParked('bt2');
    const halfClosed = once(half.c.socket, 'close');
    half.c.socket.end();
    await halfClosed;
    await until(() => half.session.closed);

    // Another request on the parked connection goes to its own route (node:http here), and
    // the parked session ends then, not at the poll time-out (300 s here).
    const other = await answeredAndParked('bt3');
    other.c.socket.write(get('/health'));
    await until(() => other.c.responses().length === 2);
    assert.match(other.c.responses()[1]!.head, /^HTTP\/1\.1 200/);
    await until(() => other.session.closed);
    other.c.socket.destroy();
    await until(() => s.server.poll.sessions.size === 0);
  } finally {
    await s.close();
  }
});
