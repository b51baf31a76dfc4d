import type { Command } from 'commander';
import { ConfigError, flagName, loadConfig, OPTIONS, summarize } from '../config/config.js';
import { createLogger } from '../observe/log.js';
import { createEngine, HoldfastServer } from '../server/server.js';

/** `holdfast serve`: every option of config/config.ts as a --flag. */
export function serveCommand(program: Command): void {
  const cmd = program.command('serve').description('Run the server (memory engine by default).');
  cmd.option('-c, --config <file>', 'JSON config file (also HOLDFAST_CONFIG)');
  for (const [name, spec] of Object.entries(OPTIONS)) {
    cmd.option(`--${flagName(name)} <value>`, `${spec.doc} (default: ${JSON.stringify(spec.default)})`);
  }
  cmd.action(async (opts: Record<string, unknown>) => {
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig({ flags: opts, env: process.env, file: opts['config'] as string | undefined });
    } catch (err) {
      if (err instanceof ConfigError) {
        console.error(`holdfast: configuration error: ${err.message}`);
        process.exit(2);
      }
      throw err;
    }
    const log = createLogger(config.logLevel);
    const server = new HoldfastServer(config, createEngine(config));
    let port: number;
    try {
      port = await server.listen();
    } catch (err) {
      console.error(`holdfast: cannot start: ${(err as Error).message}`);
      process.exit(1);
    }
    process.stdout.write(`holdfast listening on http://${config.host}:${port}\n${summarize(config)}\n`);
    log.info({ port, engine: config.engine }, 'ready');
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      server.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}
