import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchArgs, options, serve } from './serve-proc.js';

/**
 * The soak of issue 5: `holdfast serve` with several workers, `holdfast bench` against it with
 * a share of clients that stop reading (`--stall-fraction`), and one worker SIGKILLed every
 * `--kill-every` seconds while the bench publishes. Prints what was done and what the readers
 * lost (nothing, if every reader resumed).
 *
 *   node dist/bench/soak.js --clients 20000 --seconds 300 --kill-every 30 --stall-fraction 0.05
 *
 * Only this script's own server's workers are killed (children of the primary it started, read
 * from /proc), never the primary. Loopback only; every process it starts is stopped at the end.
 */
const opts = options({
  clients: '20000',
  seconds: '300',
  'kill-every': '30',
  'quiet-end': '', // default: --kill-every
  workers: '2',
  out: 'reports/soak',
  'max-queued-bytes': '65536',
  transport: 'mix',
  channels: '1000',
  rate: '100',
  'broadcast-rate': '1',
  size: '1024',
  ramp: '1000',
  drain: '15',
  'stall-fraction': '0.05',
  'stall-resume': '0',
  'max-p99': '1000',
});
const clients = opts.clients;
const seconds = Number(opts.seconds);
const killEvery = Number(opts['kill-every']);
// No kill in the last seconds of publishing, so every client can resume before the drain ends.
const quietEnd = opts['quiet-end'] === '' ? killEvery : Number(opts['quiet-end']);
const workers = opts.workers;
const out = opts.out;
const serverFlags: Record<string, string> = {
  workers,
  connections: clients,
  'max-queued-bytes': opts['max-queued-bytes'],
  // One kill every 30 s must not count as a crash loop.
  'max-restarts': '1000',
};
const loadArgs = [
  '--clients',
  clients,
  '--transport',
  opts.transport,
  '--channels',
  opts.channels,
  '--rate',
  opts.rate,
  '--broadcast-rate',
  opts['broadcast-rate'],
  '--size',
  opts.size,
  '--ramp',
  opts.ramp,
  '--duration',
  String(seconds),
  '--drain',
  opts.drain,
  '--stall-fraction',
  opts['stall-fraction'],
  '--stall-resume',
  opts['stall-resume'],
  '--max-p99',
  opts['max-p99'],
  '--out',
  out,
];

/** Worker pids of the server: the primary's child processes. */
function workerPids(primary: number): number[] {
  try {
    const text = readFileSync(`/proc/${primary}/task/${primary}/children`, 'utf8').trim();
    return text === '' ? [] : text.split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

async function metric(base: string, name: string, label = ''): Promise<number | null> {
  try {
    const text = await (await fetch(`${base}/metrics`)).text();
    let sum: number | null = null;
    for (const line of text.split('\n')) {
      if (!line.startsWith(name)) continue;
      const rest = line.slice(name.length);
      if (rest[0] !== ' ' && rest[0] !== '{') continue;
      if (label !== '' && !rest.includes(label)) continue;
      sum = (sum ?? 0) + Number(rest.slice(rest.lastIndexOf(' ') + 1));
    }
    return sum;
  } catch {
    return null;
  }
}

const server = await serve(serverFlags);
const primary = server.child.pid!;
const startedAt = new Date();
console.log(`soak: server ${server.base}, primary pid ${primary}, workers ${workerPids(primary).join(', ')}`);
console.log(`soak: started ${startedAt.toISOString()}`);
const kills: { at: string; pid: number }[] = [];
let publishing = false;
let killer: NodeJS.Timeout | null = null;
let next = 0;
let publishingSince = 0;
const killOne = (): void => {
  if ((Date.now() - publishingSince) / 1000 > seconds - quietEnd) return;
  const pids = workerPids(primary);
  if (pids.length === 0) return;
  const pid = pids[next++ % pids.length]!;
  try {
    process.kill(pid, 'SIGKILL');
    kills.push({ at: new Date().toISOString(), pid });
    console.log(`soak: SIGKILL worker ${pid} (${kills.length})`);
  } catch (e) {
    console.log(`soak: could not kill ${pid}: ${(e as Error).message}`);
  }
};

const bench = spawn(process.execPath, benchArgs(server.base, loadArgs), {
  stdio: ['ignore', 'inherit', 'pipe'],
});
bench.stderr!.setEncoding('utf8');
bench.stderr!.on('data', (text: string) => {
  process.stderr.write(text);
  if (!publishing && text.includes(' publish]')) {
    publishing = true;
    publishingSince = Date.now();
    console.log(`soak: publishing; a worker is killed every ${killEvery} s`);
    killer = setInterval(killOne, killEvery * 1000);
  }
  if (publishing && killer !== null && text.includes(' drain')) {
    clearInterval(killer);
    killer = null;
  }
});
// Bounded: the bench stops by itself; this is the backstop.
const backstop = setTimeout(() => bench.kill('SIGKILL'), (seconds + 900) * 1000);
const code = await new Promise<number | null>((r) => bench.once('exit', r));
clearTimeout(backstop);
if (killer !== null) clearInterval(killer);

const restarts = await metric(server.base, 'holdfast_worker_restarts_total');
const slow = await metric(server.base, 'holdfast_disconnects_total', 'reason="slow"');
await server.stop();

const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
const m = r.messages;
const st = m.stalled;
console.log('');
console.log(`soak summary (${startedAt.toISOString()}, bench exit ${code})`);
console.log(`  clients ${r.clients.target} (peak ${r.clients.peak}), publishing ${r.durationS} s`);
console.log(`  worker kills done ${kills.length}; restarts in holdfast_worker_restarts_total ${restarts}`);
console.log(
  `  slow-consumer disconnects in /metrics ${slow} (counts of killed workers are gone with them); ` +
    `stalled clients' disconnects seen by the bench ${st.disconnects}`,
);
console.log(
  `  readers: expected ${m.expected}, delivered ${m.delivered}, lost ${m.lost}, duplicated ${m.duplicated}, ` +
    `out of order ${m.outOfOrder}; disconnects ${r.clients.disconnects}, reconnects ${r.clients.reconnects}, ` +
    `clients reconnected ${r.clients.reconnectedClients}, lost in them ${m.lostInReconnectedClients}, ` +
    `recovered:false ${m.recoveryFailures}`,
);
console.log(
  `  stalled: clients ${st.clients}, expected ${st.expected}, delivered ${st.delivered}, lost ${st.lost}`,
);
console.log(
  `  latency p50/p99/max ${r.latency.ms.p50}/${r.latency.ms.p99}/${r.latency.ms.max} ms; ` +
    `published ${m.published} (failed ${m.publishFailures})`,
);
console.log(`  readers lost nothing: ${m.lost === 0 && m.duplicated === 0 ? 'yes' : 'NO'}`);
