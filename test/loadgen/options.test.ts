import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BenchOptionError, fill, isLoopback, parseOptions, transportOf } from '../../src/loadgen/options.js';
import { planWorkers, SOURCE_PORT_BASE, sourceAddress } from '../../src/loadgen/plan.js';

describe('bench options', () => {
  it('parses command-line strings with defaults', () => {
    const o = parseOptions({
      clients: '2500',
      transport: 'mix',
      rate: '12.5',
      url: 'http://127.0.0.1:9000/',
    });
    assert.equal(o.clients, 2500);
    assert.equal(o.transport, 'mix');
    assert.equal(o.rate, 12.5);
    assert.equal(o.url, 'http://127.0.0.1:9000');
    assert.equal(o.size, 64);
    assert.match(o.prefix, /^bench\.[a-z0-9]+\.$/);
  });

  it('rejects bad values with the option name', () => {
    assert.throws(() => parseOptions({ clients: '0' }), /--clients/);
    assert.throws(() => parseOptions({ transport: 'tcp' }), /--transport/);
    assert.throws(() => parseOptions({ url: 'ws://x' }), /--url/);
    assert.throws(() => parseOptions({ url: 'https://x' }), /TLS/);
    assert.throws(() => parseOptions({ publishHeader: ['nocolon'] }), BenchOptionError);
    assert.throws(() => parseOptions({ findLimit: 'memory' }), /--find-limit/);
  });

  it('takes publish headers and find-limit', () => {
    const o = parseOptions({ publishHeader: ['Authorization: Bearer x', 'X-A: b:c'], findLimit: true });
    assert.deepEqual(o.publishHeaders, { authorization: 'Bearer x', 'x-a': 'b:c' });
    assert.equal(o.findLimit, 'clients');
  });

  it('fills templates and leaves unknown names', () => {
    assert.equal(
      fill('{url}/x?c={channel}&{other}', { url: 'http://h', channel: 'a' }),
      'http://h/x?c=a&{other}',
    );
  });

  it('mixes transports round-robin', () => {
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => transportOf('mix', i)),
      ['ws', 'sse', 'poll', 'ws'],
    );
    assert.equal(transportOf('sse', 7), 'sse');
  });

  it('recognises loopback targets', () => {
    assert.equal(isLoopback('http://127.0.0.1:8080'), true);
    assert.equal(isLoopback('http://127.3.0.9'), true);
    assert.equal(isLoopback('http://localhost:1'), true);
    assert.equal(isLoopback('http://10.0.0.1'), false);
  });
});

describe('worker plan', () => {
  it('splits clients into processes of at most clientsPerProcess', () => {
    const o = parseOptions({ clients: '40000', clientsPerProcess: '15000', prefix: 'p.' });
    const plans = planWorkers(o);
    assert.equal(plans.length, 3);
    assert.deepEqual(
      plans.map((p) => p.count),
      [13334, 13334, 13332],
    );
    assert.equal(
      plans.reduce((a, p) => a + p.count, 0),
      40000,
    );
    assert.equal(plans[1]!.firstClient, 13334);
    assert.ok(plans.every((p) => Math.abs(p.ramp * 40000 - o.ramp * p.count) < 1e-6));
  });

  it('binds loopback source addresses from 127.0.0.2, connectionsPerAddress each', () => {
    const o = parseOptions({ clients: '70000', prefix: 'p.', sourceBase: 0 });
    const all = planWorkers(o).flatMap((p) => p.sourceAddresses);
    assert.equal(all[0], '127.0.0.2');
    assert.equal(all[24999], '127.0.0.2');
    assert.equal(all[25000], '127.0.0.3');
    assert.equal(all[69999], '127.0.0.4');
    assert.equal(sourceAddress(254), '127.0.1.0');
    const moved = planWorkers(parseOptions({ clients: '2', prefix: 'p.', sourceBase: 300 }));
    assert.deepEqual(moved[0]!.sourceAddresses, ['127.0.1.46', '127.0.1.46']);
    const far = planWorkers(parseOptions({ clients: '3', url: 'http://10.1.2.3:80', prefix: 'p.' }));
    assert.deepEqual(far[0]!.sourceAddresses, ['', '', '']);
    const off = planWorkers(parseOptions({ clients: '2', sourceAddresses: false, prefix: 'p.' }));
    assert.deepEqual(off[0]!.sourceAddresses, ['', '']);
    assert.deepEqual(off[0]!.sourcePorts, [0, 0]);
  });

  it('gives every bound client its own source port on its address', () => {
    const o = parseOptions({ clients: '70000', prefix: 'p.', sourceBase: 0 });
    const plans = planWorkers(o);
    const ports = plans.flatMap((p) => p.sourcePorts);
    const addrs = plans.flatMap((p) => p.sourceAddresses);
    assert.equal(ports[0], SOURCE_PORT_BASE);
    assert.equal(ports[24999], SOURCE_PORT_BASE + 24999);
    assert.equal(ports[25000], SOURCE_PORT_BASE);
    const pairs = new Set(addrs.map((a, i) => `${a}:${ports[i]}`));
    assert.equal(pairs.size, 70000);
    assert.ok(ports.every((p) => p >= 1024 && p <= 65535));
    const far = planWorkers(parseOptions({ clients: '2', url: 'http://10.1.2.3:80', prefix: 'p.' }));
    assert.deepEqual(far[0]!.sourcePorts, [0, 0]);
  });

  it('names channels with the prefix and one broadcast channel', () => {
    const [p] = planWorkers(parseOptions({ clients: '1', channels: '3', prefix: 'r1.' }));
    assert.deepEqual(p!.channelNames, ['r1.0', 'r1.1', 'r1.2', 'r1.all']);
    assert.equal(p!.wsUrl, 'ws://127.0.0.1:8080/ws');
    assert.equal(p!.sseUrl, 'http://127.0.0.1:8080/sse?channel={channel}&channel={broadcast}');
  });
});
