import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelUsers, decideSubscribe, type RuleContext, type Verdict } from '../../src/auth/rules.js';
import { parseNamespaces } from '../../src/config/namespaces.js';
import type { Identity } from '../../src/contract/identity.js';

const who = (user: string, channels: string[] = []): Identity => ({
  user,
  info: undefined,
  channels,
  expiresAt: 0,
});
const A = who('42', ['secret:room1', 'vip:*']);
const B = who('43');
const ANON = null;

const table = parseNamespaces(
  {
    '': { access: 'public' },
    pub: { access: 'public', anonymous: true },
    members: { access: 'public', anonymous: false },
    secret: { access: 'token' },
    vip: { access: 'token' },
    dialog: { access: 'token' },
  },
  { historySize: 10, historyTtl: 60 },
);

test('channelUsers reads the ids after the first #', () => {
  assert.equal(channelUsers('news'), null);
  assert.deepEqual(channelUsers('dialog:#42,43'), ['42', '43']);
  assert.deepEqual(channelUsers('feed#42'), ['42']);
  assert.deepEqual(channelUsers('#,42,'), ['42']);
  assert.deepEqual(channelUsers('feed#'), []);
});

type Row = [string, Identity | null, string, Verdict];

function check(ctx: RuleContext, rows: Row[]): void {
  for (const [why, identity, channel, verdict] of rows) {
    assert.equal(
      decideSubscribe(ctx, identity, channel).verdict,
      verdict,
      `${why}: ${channel} as ${identity?.user ?? 'anonymous'}`,
    );
  }
}

test('without namespaces and without auth: everything is allowed (v1), user channels too', () => {
  check({ namespaces: null, authConfigured: false, canAsk: false }, [
    ['v1', ANON, 'news', 'allow'],
    ['v1', ANON, 'secret:x', 'allow'],
    ['v1 has no users', ANON, 'dialog:#42,43', 'allow'],
  ]);
});

test('without namespaces, with auth: only user channels are guarded', () => {
  check({ namespaces: null, authConfigured: true, canAsk: true }, [
    ['public', ANON, 'news', 'allow'],
    ['public', A, 'anything:x', 'allow'],
    ['a user of it', A, 'dialog:#42,43', 'allow'],
    ['the other user', B, 'dialog:#42,43', 'allow'],
    ['not a user', who('44'), 'dialog:#42,43', 'permission_denied'],
    ['anonymous never', ANON, 'feed#42', 'permission_denied'],
    ['no users at all', A, 'feed#', 'permission_denied'],
  ]);
});

test('with namespaces', () => {
  const ctx: RuleContext = { namespaces: table, authConfigured: true, canAsk: false };
  check(ctx, [
    ['default namespace', ANON, 'news', 'allow'],
    ['public anonymous', ANON, 'pub:x', 'allow'],
    ['public anonymous', B, 'pub:x', 'allow'],
    ['members only', ANON, 'members:x', 'permission_denied'],
    ['members only', B, 'members:x', 'allow'],
    ['token, granted by name', A, 'secret:room1', 'allow'],
    ['token, another name', A, 'secret:room2', 'permission_denied'],
    ['token, granted by prefix', A, 'vip:lounge', 'allow'],
    ['token, no claim', B, 'secret:room1', 'permission_denied'],
    ['token, anonymous', ANON, 'secret:room1', 'permission_denied'],
    ['user channel needs no claim', B, 'dialog:#42,43', 'allow'],
    ['user channel, not a user', who('44', ['dialog:*']), 'dialog:#42,43', 'permission_denied'],
    ['user channel, anonymous', ANON, 'dialog:#42', 'permission_denied'],
    ['user channel in a public namespace', ANON, 'pub:#42', 'permission_denied'],
    ['unknown namespace', A, 'nope:x', 'unknown_namespace'],
    ['unknown namespace, user channel', A, 'nope:#42', 'unknown_namespace'],
    ['# before : names no namespace', A, 'feed#42:x', 'unknown_namespace'],
  ]);
  const none = parseNamespaces({ pub: {} }, { historySize: 1, historyTtl: 1 });
  check({ namespaces: none, authConfigured: false, canAsk: false }, [
    ['no default namespace', ANON, 'news', 'unknown_namespace'],
  ]);
});

test('with a subscribe proxy, token-only channels the claim does not grant are asked (for identities only)', () => {
  check({ namespaces: table, authConfigured: true, canAsk: true }, [
    ['granted: no need to ask', A, 'secret:room1', 'allow'],
    ['not granted: ask', B, 'secret:room1', 'ask'],
    ['anonymous: never asked', ANON, 'secret:room1', 'permission_denied'],
    ['user channels are not asked', who('44'), 'dialog:#42', 'permission_denied'],
    ['members only is not asked', ANON, 'members:x', 'permission_denied'],
  ]);
  assert.equal(
    decideSubscribe({ namespaces: table, authConfigured: true, canAsk: true }, A, 'secret:room1').namespace
      ?.name,
    'secret',
  );
});

test('user-channel and namespace edge cases an attacker would try (checked safe)', () => {
  const ctx: RuleContext = { namespaces: table, authConfigured: true, canAsk: true };
  const commaUser = who('42,43');
  const hashUser = who('#42');
  check(ctx, [
    // "##42" names the user "#42", never 42.
    ['double #', A, 'dialog:##42', 'permission_denied'],
    ['double #', hashUser, 'dialog:##42', 'allow'],
    // A user id holding a comma is never one of a list's ids, so it follows no list it is "in".
    ['comma in the user id', commaUser, 'dialog:#42,43', 'permission_denied'],
    ['trailing and leading commas', A, 'dialog:#,42,', 'allow'],
    ['trailing and leading commas', B, 'dialog:#,42,', 'permission_denied'],
    // The `channels` claim does not widen a user channel: vip:* does not grant vip:#43.
    ['a claim does not grant another user', A, 'vip:#43', 'permission_denied'],
    // The namespace is what precedes the first ":", before any "#": "a#42:b" is in no namespace.
    ['# before :', A, 'a#42:b', 'unknown_namespace'],
    // An empty namespace name is the default namespace, with its rules.
    ['leading colon', ANON, ':news', 'allow'],
    ['leading colon', ANON, ':#42', 'permission_denied'],
    // A prefix is a prefix: vip:* grants vip:x, and nothing in another namespace.
    ['prefix stays in its namespace', A, 'vipx:room', 'unknown_namespace'],
    ['prefix', A, 'vip:room', 'allow'],
  ]);
});
