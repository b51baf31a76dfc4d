import { type DestinationStream, type Level, type Logger, pino } from 'pino';

/**
 * Structured JSON logs to stdout through pino's asynchronous destination, so a burst of log
 * lines never blocks the event loop on a slow terminal or disk. In a terminal (`format: 'auto'`
 * and stdout is a TTY, or `'pretty'`) each line is rewritten as `time LEVEL msg key=value`.
 * For JSON logs read by a person: `holdfast serve | npx pino-pretty`.
 */
export type LogFormat = 'auto' | 'json' | 'pretty';

export function createLogger(
  level: string,
  bindings: Record<string, unknown> = {},
  format: LogFormat = 'json',
  destination: DestinationStream = pino.destination({ sync: false }),
): Logger {
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  const stream: DestinationStream = pretty
    ? { write: (line) => destination.write(prettyLine(line)) }
    : destination;
  return pino({ level, base: { pid: process.pid, ...bindings } }, stream);
}

/** A logger that writes nothing (servers built without one, e.g. in tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};
const COLORS: Record<number, string> = { 40: '\x1b[33m', 50: '\x1b[31m', 60: '\x1b[35m' };

/** One pino JSON line as `HH:MM:SS.mmm LEVEL msg key=value ...` (unparsable lines pass through). */
export function prettyLine(line: string, color = true): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { level, time, msg, pid: _pid, hostname: _host, ...rest } = o;
  const lv = typeof level === 'number' ? level : 30;
  const t = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  const name = LEVELS[lv] ?? String(level);
  const tag = color && COLORS[lv] !== undefined ? `${COLORS[lv]}${name}\x1b[0m` : name;
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${t} ${tag} ${typeof msg === 'string' ? msg : ''}${fields === '' ? '' : ' ' + fields}\n`;
}

export interface LimitOptions {
  /** Lines logged per key in one interval; the rest are counted. */
  perInterval: number;
  intervalMs: number;
  /** Distinct keys tracked in one interval; past that, new keys share the key "other". */
  maxKeys: number;
}

const OTHER = 'other';
const DEFAULT_LIMITS: LimitOptions = { perInterval: 10, intervalMs: 10_000, maxKeys: 1000 };

/**
 * Rate limits repeated log lines by key (e.g. "ws_bad_frame"): at most `perInterval` lines per
 * key per interval, then one summary per key, `{"key", "suppressed": K}`, when the interval
 * ends. A flood of bad clients costs a Map lookup per event, not a log line, so it can neither
 * stall the event loop nor fill a disk.
 */
export class LogLimiter {
  readonly #log: Logger;
  readonly #opts: LimitOptions;
  readonly #counts = new Map<string, { logged: number; suppressed: number }>();
  #timer: NodeJS.Timeout | null = null;

  constructor(log: Logger, opts: Partial<LimitOptions> = {}) {
    this.#log = log;
    this.#opts = { ...DEFAULT_LIMITS, ...opts };
  }

  /** Logs unless `key` used up its lines this interval; returns whether it logged. */
  log(level: Level, key: string, obj: Record<string, unknown>, msg: string): boolean {
    if (!this.#log.isLevelEnabled(level)) return false;
    let c = this.#counts.get(key);
    if (c === undefined) {
      if (this.#counts.size >= this.#opts.maxKeys && key !== OTHER) return this.log(level, OTHER, obj, msg);
      c = { logged: 0, suppressed: 0 };
      this.#counts.set(key, c);
      if (this.#timer === null) {
        this.#timer = setInterval(() => this.flush(), this.#opts.intervalMs);
        this.#timer.unref();
      }
    }
    if (c.logged >= this.#opts.perInterval) {
      c.suppressed++;
      return false;
    }
    c.logged++;
    this.#log[level]({ key, ...obj }, msg);
    return true;
  }

  /** Ends the interval: one summary line per key that had lines suppressed. */
  flush(): void {
    for (const [key, c] of this.#counts) {
      if (c.suppressed > 0) {
        this.#log.warn(
          { key, suppressed: c.suppressed, intervalMs: this.#opts.intervalMs },
          `suppressed ${c.suppressed} repeated log lines`,
        );
      }
    }
    this.#counts.clear();
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  close(): void {
    this.flush();
  }
}

export type { Logger };
