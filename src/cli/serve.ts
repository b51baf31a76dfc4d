import cluster from 'node:cluster';
import type { Command } from 'commander';
import { apiKeyWarning } from '../api/auth.js';
import { accessWarnings } from '../auth/warnings.js';
import { runPrimary } from '../cluster/primary.js';
import { runWorker } from '../cluster/worker.js';
import { type Config, ConfigError, flagName, loadConfig, OPTIONS, summarize } from '../config/config.js';
import { startupWarnings } from '../doctor/doctor.js';
import { createLogger, type LogFormat, type Logger } from '../observe/log.js';
import { createEngine, HoldfastServer } from '../server/server.js';
import { resolveWorkers } from '../server/sizing.js';

/** `holdfast serve`: every option of config/config.ts as a --flag. */
export function serveCommand(program: Command): void {
  const cmd = program.command('serve').description('Run the server (memory engine by default).');
  cmd.option('-c, --config <file>', 'JSON config file (also HOLDFAST_CONFIG)');
  for (const [name, spec] of Object.entries(OPTIONS)) {
    cmd.option(`--${flagName(name)} <value>`, `${spec.doc} (default: ${JSON.stringify(spec.default)})`);
  }
  cmd.action(async (opts: Record<string, unknown>) => {
    let config: Config;
    try {
      config = loadConfig({ flags: opts, env: process.env, file: opts['config'] as string | undefined });
    } catch (err) {
      if (err instanceof ConfigError) {
        console.error(`holdfast: configuration error: ${err.message}`);
        process.exit(2);
      }
      throw err;
    }
    const log = createLogger(
      config.logLevel,
      cluster.isWorker ? { worker: cluster.worker?.id } : {},
      config.logFormat as LogFormat,
    );
    if (cluster.isWorker) {
      await runWorker(config, log);
      return;
    }
    const workers = resolveWorkers(config.workers, config.connections);
    process.stdout.write(`${summarize(config)}\n`);
    // The same checks as `holdfast doctor`, for what this configuration asks of the machine.
    const target = config.connections > 0 ? { workers, connections: config.connections } : { workers };
    for (const line of startupWarnings(target)) log.warn(line);
    const weakKey = apiKeyWarning(config.apiKey, config.apiKeyGenerated);
    if (weakKey !== null) log.warn(weakKey);
    for (const line of accessWarnings(config)) log.warn(line);
    if (workers > 1) {
      const primary = runPrimary(config, log, (line) => process.stdout.write(`${line}\n`));
      process.on('SIGINT', () => primary.stop('SIGINT'));
      process.on('SIGTERM', () => primary.stop('SIGTERM'));
      process.exit(await primary.done);
    }
    await serveSingle(config, log);
  });
}

/** One process, memory engine: no primary. */
async function serveSingle(config: Config, log: Logger): Promise<void> {
  const server = new HoldfastServer(config, createEngine(config), { log });
  let port: number;
  try {
    port = await server.listen();
  } catch (err) {
    console.error(`holdfast: cannot start: ${(err as Error).message}`);
    process.exit(1);
  }
  process.stdout.write(
    `holdfast listening on http://${config.host}:${port} (one process, pid ${process.pid})\n`,
  );
  log.info({ port, engine: config.engine }, 'ready');
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'draining');
    setTimeout(() => process.exit(1), config.drainTimeout * 1000 + 2000).unref();
    server.drain().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
