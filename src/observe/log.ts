import { type Logger, pino } from 'pino';

/**
 * Structured JSON logs to stdout through pino's asynchronous destination, so a burst of log
 * lines never blocks the event loop on a slow terminal or disk.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } }, pino.destination({ sync: false }));
}

export type { Logger };
