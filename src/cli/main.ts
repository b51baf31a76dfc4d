#!/usr/bin/env node
import { Command } from 'commander';
import { benchCommand } from './bench.js';
import { doctorCommand } from './doctor.js';
import { serveCommand } from './serve.js';
import { tokenCommand } from './token.js';

const program = new Command();
program
  .name('holdfast')
  .description('Real-time push server: WebSocket, SSE and long-poll.')
  .showHelpAfterError();
serveCommand(program);
doctorCommand(program);
benchCommand(program);
tokenCommand(program);
program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
