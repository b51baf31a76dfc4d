import { join } from 'node:path';
import type { Command } from 'commander';
import { findLimit } from '../loadgen/find-limit.js';
import { BenchOptionError, type BenchOptions, DEFAULTS, parseOptions } from '../loadgen/options.js';
import { progressLine } from '../loadgen/progress.js';
import type { Report } from '../loadgen/report.js';
import { writeReport } from '../loadgen/report-files.js';
import { runBench } from '../loadgen/run.js';

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

/** `holdfast bench`: the load generator (src/loadgen). */
export function benchCommand(program: Command): void {
  const d = DEFAULTS;
  program
    .command('bench')
    .description('Load a server with WebSocket, SSE and long-poll clients; check every message.')
    .option('--url <url>', 'server base URL', d.url)
    .option('--clients <n>', 'clients to open', String(d.clients))
    .option('--transport <t>', 'ws, sse, poll or mix', d.transport)
    .option(
      '--channels <n>',
      'channels the clients are spread over (plus one broadcast channel)',
      String(d.channels),
    )
    .option('--rate <n>', 'publications per second, round-robin over the channels', String(d.rate))
    .option(
      '--broadcast-rate <n>',
      'publications per second on the channel every client follows',
      String(d.broadcastRate),
    )
    .option('--size <bytes>', 'payload bytes per publication', String(d.size))
    .option('--ramp <n>', 'new connections per second', String(d.ramp))
    .option('--max-connecting <n>', 'most connection attempts in flight at once', String(d.maxConnecting))
    .option('--duration <s>', 'seconds of publishing once the clients are connected', String(d.duration))
    .option('--drain <s>', 'seconds to wait for the last deliveries', String(d.drain))
    .option('--max-publications <n>', 'stop publishing after this many (0: no limit)', '0')
    .option('--out <dir>', 'report folder (report.json, report.html)', d.out)
    .option('--api-key <key>', 'X-API-Key for publishing (default: $HOLDFAST_API_KEY)')
    .option('--prefix <p>', 'channel name prefix (default: a fresh one per run)')
    .option('--clients-per-process <n>', 'clients per bench child process', String(d.clientsPerProcess))
    .option(
      '--connections-per-address <n>',
      'clients per loopback source address',
      String(d.connectionsPerAddress),
    )
    .option('--source-base <n>', 'first source address, as an index from 127.0.0.2 (default: random)')
    .option('--no-source-addresses', 'do not bind 127.0.0.2+ source addresses on loopback')
    .option('--metrics <url>', 'server Prometheus metrics URL', d.metricsUrl)
    .option('--no-metrics', 'do not read server metrics')
    .option('--no-progress', 'no live progress lines')
    .option('--find-limit [what]', 'step clients (or rate) up until an objective breaks')
    .option(
      '--step-factor <f>',
      'find-limit: multiply clients or rate by this per step',
      String(d.stepFactor),
    )
    .option('--max-steps <n>', 'find-limit: most steps', String(d.maxSteps))
    .option('--max-p99 <ms>', 'objective: p99 delivery latency at most', String(d.maxP99Ms))
    .option('--max-lost <n>', 'objective: lost messages at most', String(d.maxLost))
    .option(
      '--max-connect-errors <ratio>',
      'objective: connect errors per client at most',
      String(d.maxConnectErrorRatio),
    )
    .option(
      '--stall-fraction <f>',
      'share of clients (0..1) that stop reading once subscribed; counted apart as messages.stalled',
      String(d.stallFraction),
    )
    .option(
      '--stall-resume <s>',
      'seconds after the start (ramp included) when stalled clients read again (0: never)',
      String(d.stallResume),
    )
    .option('--protocol <p>', 'holdfast, or generic (any server, through the templates below)', d.protocol)
    .option('--ws-url <tmpl>', 'WebSocket URL template ({ws}, {url}, {channel}, {broadcast})', d.wsUrl)
    .option('--sse-url <tmpl>', 'SSE URL template', d.sseUrl)
    .option('--poll-url <tmpl>', 'long-poll URL template ({cursor} too)', d.pollUrl)
    .option(
      '--subscribe-message <tmpl>',
      "WebSocket frame per channel after open ({channel}, {id}); '' for none",
      d.subscribeMessage,
    )
    .option('--publish-url <tmpl>', 'publish URL template ({url}, {channel})', d.publishUrl)
    .option('--publish-method <m>', 'publish HTTP method', d.publishMethod)
    .option(
      '--publish-body <tmpl>',
      'publish body template ({channel}, {data} as JSON, {text} raw)',
      d.publishBody,
    )
    .option(
      '--publish-header <h>',
      'publish header "Name: value" (repeatable; {key} is the API key)',
      collect,
    )
    .action(async (raw: Record<string, unknown>) => {
      let o: BenchOptions;
      try {
        o = parseOptions(raw);
      } catch (err) {
        if (err instanceof BenchOptionError) {
          console.error(`holdfast bench: ${err.message}`);
          process.exit(2);
        }
        throw err;
      }
      const command = ['holdfast', ...process.argv.slice(2)];
      const hooks = {
        command,
        onSample: o.progress
          ? (s: Parameters<typeof progressLine>[0], r: Parameters<typeof progressLine>[1]) =>
              process.stderr.write(progressLine(s, r) + '\n')
          : undefined,
      };
      let report: Report;
      if (o.findLimit === '') report = await runBench(o, hooks);
      else {
        report = await findLimit(o, async (step, i) => {
          process.stderr.write(
            `find-limit step ${i}: ${step.clients} clients, ${step.rate} publications/s\n`,
          );
          const r = await runBench(step, hooks);
          writeReport(join(o.out, `step-${i}`), r);
          return r;
        });
      }
      const paths = writeReport(o.out, report);
      printSummary(report);
      process.stdout.write(`report: ${paths.json}\n        ${paths.html}\n`);
      process.exit(report.verdict.held || o.findLimit !== '' ? 0 : 1);
    });
}

function printSummary(r: Report): void {
  const m = r.messages;
  const lines = [
    `clients   target ${r.clients.target}, peak ${r.clients.peak}, connect errors ${r.clients.connectErrors}, reconnects ${r.clients.reconnects}, source-port fallbacks ${r.clients.portFallbacks}`,
    `messages  published ${m.published} (${m.publishFailures} failed, ${m.publishRetries} sent again), expected ${m.expected}, delivered ${m.delivered}, lost ${m.lost}, duplicated ${m.duplicated}, out of order ${m.outOfOrder}`,
    `latency   p50 ${r.latency.ms.p50} ms, p90 ${r.latency.ms.p90} ms, p99 ${r.latency.ms.p99} ms, max ${r.latency.ms.max} ms`,
    `connect   p50 ${r.connect.ms.p50} ms, p99 ${r.connect.ms.p99} ms`,
    `verdict   ${r.verdict.held ? 'held' : 'broke: ' + r.verdict.reasons.join('; ')}`,
  ];
  if (r.findLimit !== undefined) {
    const h = r.findLimit.lastHeld;
    lines.push(
      `limit     ${h === null ? 'no step held' : `last step held: ${h.clients} clients at ${h.rate}/s`}`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}
