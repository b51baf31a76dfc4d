import { type Command, InvalidArgumentError } from 'commander';
import { runDoctor } from '../doctor/doctor.js';
import { formatJson, formatReport } from '../doctor/report.js';

function positiveInt(value: string): number {
  const n = Number(value.replace(/_/g, ''));
  if (!/^[\d_]+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected a whole number of at least 1');
  }
  return n;
}

/** `holdfast doctor`: checks the operating system's limits for a connection target. */
export function doctorCommand(program: Command): void {
  program
    .command('doctor')
    .description("Check the operating system's limits for N connections; exits 1 when a check fails.")
    .option('--connections <n>', 'connections the server should hold', positiveInt, 100_000)
    .option('--workers <n>', 'worker processes you will run (default: say how many are needed)', positiveInt)
    .option('--json', 'print the results as JSON')
    .action((opts: { connections: number; workers?: number; json?: boolean }) => {
      const report = runDoctor({ connections: opts.connections, workers: opts.workers });
      process.stdout.write(opts.json ? formatJson(report) : formatReport(report));
      if (report.status === 'fail') process.exitCode = 1;
    });
}
