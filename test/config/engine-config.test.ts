import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, engineKind, loadConfig, redactUrl, summarize } from '../../src/config/config.js';
import { MemoryEngine } from '../../src/engines/memory/engine.js';
import { NatsEngine } from '../../src/engines/nats/engine.js';
import { RedisEngine } from '../../src/engines/redis/engine.js';
import { createEngine } from '../../src/server/server.js';

const load = (flags: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => loadConfig({ flags, env });

describe('engine options', () => {
  it('accepts memory, redis://, rediss:// and nats:// (several NATS servers too)', () => {
    for (const engine of [
      'memory',
      'redis://127.0.0.1:6379',
      'redis://user:secret@redis.internal:6380/2',
      'rediss://cache.example:6380',
      'nats://127.0.0.1:4222',
      'nats://a:4222,nats://b:4222',
    ]) {
      assert.equal(load({ engine }).engine, engine);
    }
    assert.equal(load({}).engine, 'memory');
    assert.equal(load({}, { HOLDFAST_ENGINE: 'redis://127.0.0.1:6379' }).engine, 'redis://127.0.0.1:6379');
  });

  it('refuses anything else, saying what is supported', () => {
    for (const [engine, message] of [
      ['postgres://x', /the scheme "postgres" is not supported \(supported: memory, redis:\/\//],
      ['redis', /is not memory or a broker URL/],
      ['Memory', /is not memory or a broker URL/],
      ['redis://host:6379/db', /the Redis database .* must be a number/],
      ['nats://a:4222,http://b', /the scheme "http" is not supported/],
    ] as const) {
      assert.throws(
        () => load({ engine }),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
      );
    }
  });

  it('validates the prefix and the JetStream switch', () => {
    assert.equal(load({}).enginePrefix, 'holdfast');
    assert.equal(load({ enginePrefix: 'site_2-a' }).enginePrefix, 'site_2-a');
    assert.throws(() => load({ enginePrefix: 'a.b' }), /enginePrefix: expected 1 to 64 letters/);
    assert.throws(() => load({ enginePrefix: 'a b' }), /enginePrefix/);
    assert.equal(load({}).natsHistory, true);
    assert.equal(load({}, { HOLDFAST_NATS_HISTORY: 'false' }).natsHistory, false);
    assert.throws(() => load({ natsHistory: 'maybe' }), /natsHistory .* expected true or false/);
  });

  it('createEngine picks the engine from the URL', () => {
    assert.ok(createEngine(load({})) instanceof MemoryEngine);
    const redis = createEngine(load({ engine: 'redis://127.0.0.1:6379' }));
    assert.ok(redis instanceof RedisEngine);
    assert.equal(redis.ready(), false, 'not ready before it has connected');
    const nats = createEngine(load({ engine: 'nats://127.0.0.1:4222' }));
    assert.ok(nats instanceof NatsEngine);
    assert.notEqual(nats.history, null, 'JetStream history by default');
    assert.equal(createEngine(load({ engine: 'nats://127.0.0.1:4222', natsHistory: false })).history, null);
    assert.equal(engineKind('rediss://x:1'), 'redis');
  });

  it('never shows a broker password', () => {
    assert.equal(redactUrl('redis://user:secret@h:1/0'), 'redis://user:***@h:1/0');
    assert.equal(redactUrl('redis://:secret@h:1'), 'redis://:***@h:1');
    assert.ok(!summarize(load({ engine: 'redis://:secret@h:1' })).includes('secret'));
  });
});
