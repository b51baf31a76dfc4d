import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pollFields, pollHead } from '../../src/transports/poll-head.js';
import { SSE_OPENING, sseFields, sseHead } from '../../src/transports/sse-head.js';

/** The fields of a raw head, lower-case names. */
function fieldsOf(raw: string): { status: string; fields: Record<string, string> } {
  const [line, ...rest] = raw.slice(0, raw.indexOf('\r\n\r\n')).split('\r\n');
  const fields: Record<string, string> = {};
  for (const l of rest) fields[l.slice(0, l.indexOf(':'))] = l.slice(l.indexOf(':') + 2);
  return { status: line!, fields };
}

const CORS = { 'access-control-allow-origin': 'http://ok.test', vary: 'Origin' };

test("SSE: the socket's head says what node:http is given, connection: close, then the opening", () => {
  for (const cors of [{}, CORS]) {
    const raw = sseHead(cors);
    const { status, fields } = fieldsOf(raw);
    assert.equal(status, 'HTTP/1.1 200 OK');
    const { date, ...rest } = fields;
    assert.match(date!, /GMT$/);
    assert.deepEqual(rest, sseFields(cors));
    assert.equal(rest['connection'], 'close');
    assert.ok(raw.endsWith(`\r\n\r\n${SSE_OPENING}`));
  }
});

test("long-poll: the socket's head says what node:http is given, and the connection's fate", () => {
  for (const [status, line] of [
    [200, 'HTTP/1.1 200 OK'],
    [400, 'HTTP/1.1 400 Bad Request'],
    [503, 'HTTP/1.1 503 Service Unavailable'],
  ] as const) {
    for (const keep of [true, false]) {
      const { status: got, fields } = fieldsOf(pollHead(status, 12, CORS, keep));
      assert.equal(got, line);
      const { date, connection, ...rest } = fields;
      assert.match(date!, /GMT$/);
      assert.equal(connection, keep ? 'keep-alive' : 'close');
      const want = Object.fromEntries(Object.entries(pollFields(12, CORS)).map(([k, v]) => [k, String(v)]));
      assert.deepEqual(rest, want);
    }
  }
});
