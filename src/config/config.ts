import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { NamespaceError, type Namespaces, parseNamespaces } from './namespaces.js';
import { type Kind, OPTIONS, type OptionSpec } from './options.js';

/**
 * The configuration: the options of options.ts (one table: defaults, kinds, bounds, docs) read
 * from their sources, coerced, validated across fields, and typed. Fails fast with ConfigError.
 */
export { OPTIONS };

type Opts = typeof OPTIONS;
type ValueOf<K extends Kind> = K extends 'int'
  ? number
  : K extends 'bool'
    ? boolean
    : K extends 'list'
      ? string[]
      : K extends 'json'
        ? unknown
        : string;
export type Config = { -readonly [K in keyof Opts]: ValueOf<Opts[K]['kind']> } & {
  /** True when the API key was generated at start rather than given. */
  apiKeyGenerated: boolean;
  /** The `namespaces` option, parsed; null when it is not set (every channel public, as in v1). */
  namespaceTable: Namespaces | null;
};
export type OptionName = keyof Opts;

export class ConfigError extends Error {}

export function envName(name: string): string {
  return 'HOLDFAST_' + name.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

export function flagName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

function coerce(
  name: string,
  spec: OptionSpec,
  raw: unknown,
  source: string,
): number | string | boolean | string[] | null {
  const where = `${name} (from ${source})`;
  switch (spec.kind) {
    case 'int': {
      const n =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && /^-?\d+$/.test(raw.trim())
            ? Number(raw)
            : Number.NaN;
      if (!Number.isSafeInteger(n))
        throw new ConfigError(`${where}: expected a whole number, got ${JSON.stringify(raw)}`);
      if (spec.min !== undefined && n < spec.min)
        throw new ConfigError(`${where}: ${n} is below the minimum ${spec.min}`);
      if (spec.max !== undefined && n > spec.max)
        throw new ConfigError(`${where}: ${n} is above the maximum ${spec.max}`);
      return n;
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new ConfigError(`${where}: expected true or false, got ${JSON.stringify(raw)}`);
    }
    case 'list': {
      if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw as string[];
      if (typeof raw === 'string')
        return raw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
      throw new ConfigError(`${where}: expected a list of strings, got ${JSON.stringify(raw)}`);
    }
    case 'json': {
      if (typeof raw !== 'string') return raw as null;
      try {
        return JSON.parse(raw) as null;
      } catch {
        throw new ConfigError(`${where}: expected JSON, got ${JSON.stringify(raw.slice(0, 80))}`);
      }
    }
    default: {
      if (typeof raw !== 'string' && typeof raw !== 'number') {
        throw new ConfigError(`${where}: expected a string, got ${JSON.stringify(raw)}`);
      }
      const s = String(raw);
      if (spec.choices !== undefined && !spec.choices.includes(s)) {
        throw new ConfigError(`${where}: ${JSON.stringify(s)} is not one of ${spec.choices.join(', ')}`);
      }
      return s;
    }
  }
}

export interface ConfigSources {
  /** Values from command-line flags, by option name. */
  flags?: Partial<Record<string, unknown>>;
  env?: NodeJS.ProcessEnv;
  /** Path of a JSON config file. */
  file?: string;
}

/** Builds the validated configuration, or throws ConfigError naming the bad option. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? {};
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(OPTIONS) as [string, OptionSpec][]) values[name] = spec.default;

  const file = sources.file ?? env['HOLDFAST_CONFIG'];
  if (file !== undefined && file !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`config file ${file}: expected a JSON object`);
    }
    for (const [k, v] of Object.entries(parsed)) {
      const spec = (OPTIONS as Record<string, OptionSpec>)[k];
      if (spec === undefined)
        throw new ConfigError(
          `config file ${file}: unknown option "${k}" (known: ${Object.keys(OPTIONS).join(', ')})`,
        );
      values[k] = coerce(k, spec, v, `config file ${file}`);
    }
  }
  for (const [name, spec] of Object.entries(OPTIONS) as [string, OptionSpec][]) {
    const e = env[envName(name)];
    if (e !== undefined && e !== '') values[name] = coerce(name, spec, e, envName(name));
  }
  for (const [name, v] of Object.entries(sources.flags ?? {})) {
    const spec = (OPTIONS as Record<string, OptionSpec>)[name];
    if (spec === undefined || v === undefined) continue;
    values[name] = coerce(name, spec, v, '--' + flagName(name));
  }
  const config = values as Config;
  validateCrossFields(config);
  config.apiKeyGenerated = config.apiKey === '';
  if (config.apiKeyGenerated) config.apiKey = randomBytes(18).toString('base64url');
  return config;
}

function validateCrossFields(c: Config): void {
  if (c.workers !== 'auto' && !/^[1-9]\d{0,2}$/.test(c.workers)) {
    throw new ConfigError(
      `workers: expected a number from 1 to 999 or "auto", got ${JSON.stringify(c.workers)}`,
    );
  }
  validateEngine(c.engine);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(c.enginePrefix)) {
    throw new ConfigError(
      `enginePrefix: expected 1 to 64 letters, digits, "_" or "-", got ${JSON.stringify(c.enginePrefix)}`,
    );
  }
  try {
    c.namespaceTable = parseNamespaces(c.namespaces, c);
  } catch (err) {
    if (err instanceof NamespaceError) throw new ConfigError(err.message);
    throw err;
  }
  // No resume needs more than the largest history keeps; a smaller one's channels read what they
  // keep and are told recovered: false past it. Clamping to the server's historySize alone would
  // refuse resumes that a namespace keeping more could serve.
  let kept = c.historySize;
  for (const ns of c.namespaceTable?.list() ?? []) kept = Math.max(kept, ns.historySize);
  if (c.maxRecover > kept && kept > 0) c.maxRecover = kept;
  // Cookies are a browser's credentials with a connect proxy, and a WebSocket has no CORS: with
  // every origin allowed, a page on any site could open a connection carrying its visitor's
  // cookies and read their channels (cross-site WebSocket hijacking).
  if (c.connectProxy !== '' && c.allowedOrigins.includes('*')) {
    throw new ConfigError(
      'connectProxy: with allowedOrigins "*" a page on any website can connect with its visitors\' cookies ' +
        "and read their channels; set allowedOrigins to your sites' origins (clients without an Origin, not browsers, are not affected)",
    );
  }
  for (const name of ['connectProxy', 'subscribeProxy', 'publishProxy', 'tokenJwksUrl'] as const) {
    const url = c[name];
    if (url === '') continue;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(`${name}: ${JSON.stringify(url)} is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new ConfigError(`${name}: expected an http:// or https:// URL, got ${JSON.stringify(url)}`);
    }
  }
}

/** Whether connections can have an identity (a token key or a connect proxy is configured). */
export function authConfigured(c: Config): boolean {
  return (
    c.tokenHmacSecret !== '' || c.tokenPublicKey !== '' || c.tokenJwksUrl !== '' || c.connectProxy !== ''
  );
}

/** The engine's kind from its option: memory, redis or nats. */
export function engineKind(engine: string): 'memory' | 'redis' | 'nats' {
  if (engine === 'memory') return 'memory';
  return engine.startsWith('nats://') ? 'nats' : 'redis';
}

function validateEngine(engine: string): void {
  const supported = 'supported: memory, redis://host:port, rediss://host:port, nats://host:port';
  if (engine === 'memory') return;
  const urls = engine.startsWith('nats://') ? engine.split(',') : [engine];
  for (const text of urls) {
    let url: URL;
    try {
      url = new URL(text.trim());
    } catch {
      throw new ConfigError(`engine: ${JSON.stringify(engine)} is not memory or a broker URL (${supported})`);
    }
    const scheme = url.protocol.slice(0, -1);
    if (!['redis', 'rediss', 'nats'].includes(scheme)) {
      throw new ConfigError(`engine: the scheme ${JSON.stringify(scheme)} is not supported (${supported})`);
    }
    if (url.hostname === '') throw new ConfigError(`engine: ${JSON.stringify(text)} names no host`);
    if (scheme === 'redis' || scheme === 'rediss') {
      if (!/^\/?(\d{1,2})?$/.test(url.pathname)) {
        throw new ConfigError(`engine: the Redis database in ${JSON.stringify(text)} must be a number`);
      }
    }
  }
}

/** A one-screen summary for the start banner (the API key is shown only when generated). */
export function summarize(c: Config): string {
  const key = c.apiKeyGenerated ? c.apiKey : '(set)';
  return [
    `listen ${c.host}:${c.port}  engine ${redactUrl(c.engine)}  workers ${c.workers}`,
    `history ${c.historySize} messages / ${c.historyTtl}s per channel  max channels/connection ${c.maxChannelsPerConnection}`,
    `limits: frame ${c.maxFrameBytes} B, body ${c.maxBodyBytes} B, send queue ${c.maxQueuedBytes} B`,
    `api key ${key}`,
  ].join('\n');
}

/** A broker URL without its password, for banners and messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/g, '//$1:***@');
}
