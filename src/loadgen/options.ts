/**
 * `holdfast bench` options: their defaults, validation and the templates that let the bench
 * load a server other than Holdfast. One table, like config/config.ts for the server.
 */
export type Transport = 'ws' | 'sse' | 'poll';
export type TransportChoice = Transport | 'mix';

export interface BenchOptions {
  /** Server base URL (http://host:port); ws:// URLs are derived from it. */
  url: string;
  clients: number;
  transport: TransportChoice;
  /** Channels the clients are spread over; each client also follows one broadcast channel. */
  channels: number;
  /** Publications per second, round-robin over the channels. */
  rate: number;
  /** Publications per second on the broadcast channel every client follows. */
  broadcastRate: number;
  /** Payload bytes of each publication. */
  size: number;
  /** New connections per second. */
  ramp: number;
  /** Most connection attempts in flight at once (all processes), so the ramp never floods the
   * server's listen backlog and turns connect latency into SYN retransmits. */
  maxConnecting: number;
  /** Seconds of publishing once every client is connected. */
  duration: number;
  /** Seconds to wait for the last deliveries after publishing stops. */
  drain: number;
  /** Stop after this many publications (0: no limit); makes short tests exact. */
  maxPublications: number;
  out: string;
  apiKey: string;
  /** Channel name prefix; a fresh one per run keeps runs apart. */
  prefix: string;
  clientsPerProcess: number;
  /** Bind loopback source addresses 127.0.0.2 and up (loopback targets only). */
  sourceAddresses: boolean;
  connectionsPerAddress: number;
  /** First source address used, as an index from 127.0.0.2; random per run by default, so that
   * back-to-back runs do not meet the previous run's TIME_WAIT sockets. */
  sourceBase: number;
  /** Server metrics (Prometheus text); '' for none. */
  metricsUrl: string;
  progress: boolean;
  /** holdfast: the Holdfast protocol (acks, offsets, resume); generic: URL templates only. */
  protocol: 'holdfast' | 'generic';
  /** Subscribe URL template per transport; {channel}, {broadcast}, {cursor} are filled in. */
  wsUrl: string;
  sseUrl: string;
  pollUrl: string;
  /** WebSocket frames sent after open, one per channel ({channel}, {id}); '' sends none. */
  subscribeMessage: string;
  publishUrl: string;
  publishMethod: string;
  /** Request body template: {channel}, {data} (the payload as JSON), {text} (payload, raw). */
  publishBody: string;
  publishHeaders: Record<string, string>;
  /** Find-limit: what to step up ('' = one run), the factor and the objectives. */
  findLimit: '' | 'clients' | 'rate';
  stepFactor: number;
  maxSteps: number;
  maxP99Ms: number;
  maxLost: number;
  maxConnectErrorRatio: number;
  /** Share of the clients (0..1) that stop reading once subscribed (slow consumers); their
   * figures are counted apart from the readers' (`messages.stalled`). */
  stallFraction: number;
  /** Seconds after the bench starts (ramp included) at which stalled clients read again
   * (0: never). */
  stallResume: number;
}

export class BenchOptionError extends Error {}

export const DEFAULTS: BenchOptions = {
  url: 'http://127.0.0.1:8080',
  clients: 100,
  transport: 'ws',
  channels: 10,
  rate: 10,
  broadcastRate: 1,
  size: 64,
  ramp: 1000,
  maxConnecting: 500,
  duration: 10,
  drain: 3,
  maxPublications: 0,
  out: 'reports/bench',
  apiKey: '',
  prefix: '',
  clientsPerProcess: 15_000,
  sourceAddresses: true,
  // Below Linux's default ephemeral range (32768-60999: 28,232 ports per source address); past
  // it connections fail with EADDRNOTAVAIL.
  connectionsPerAddress: 25_000,
  sourceBase: 0,
  metricsUrl: '{url}/metrics',
  progress: true,
  protocol: 'holdfast',
  wsUrl: '{ws}/ws',
  sseUrl: '{url}/sse?channel={channel}&channel={broadcast}',
  pollUrl: '{url}/poll?channel={channel}&channel={broadcast}&cursor={cursor}',
  subscribeMessage: '{"id":{id},"op":"subscribe","channel":"{channel}"}',
  publishUrl: '{url}/api/publish',
  publishMethod: 'POST',
  publishBody: '{"channel":"{channel}","data":{data}}',
  publishHeaders: { 'content-type': 'application/json', 'x-api-key': '{key}' },
  findLimit: '',
  stepFactor: 2,
  maxSteps: 6,
  maxP99Ms: 1000,
  maxLost: 0,
  maxConnectErrorRatio: 0.001,
  stallFraction: 0,
  stallResume: 0,
};

function num(name: string, v: unknown, min: number, max: number, int = true): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n))) {
    throw new BenchOptionError(
      `--${name} must be ${int ? 'an integer' : 'a number'} from ${min} to ${max} (got ${String(v)}).`,
    );
  }
  return n;
}

/** Validates raw option values (strings from the command line, or typed values). */
export function parseOptions(raw: Record<string, unknown>): BenchOptions {
  const o: BenchOptions = { ...DEFAULTS, publishHeaders: { ...DEFAULTS.publishHeaders } };
  const has = (k: string): boolean => raw[k] !== undefined;
  if (has('url')) o.url = String(raw['url']).replace(/\/+$/, '');
  try {
    const u = new URL(o.url);
    if (u.protocol !== 'http:') throw new Error();
  } catch {
    throw new BenchOptionError(
      `--url must be a plain http:// URL (got ${o.url}); the bench's clients do not speak TLS.`,
    );
  }
  if (has('clients')) o.clients = num('clients', raw['clients'], 1, 1_000_000);
  if (has('transport')) {
    const t = String(raw['transport']);
    if (t !== 'ws' && t !== 'sse' && t !== 'poll' && t !== 'mix') {
      throw new BenchOptionError(`--transport must be ws, sse, poll or mix (got ${t}).`);
    }
    o.transport = t;
  }
  if (has('channels')) o.channels = num('channels', raw['channels'], 1, 1_000_000);
  if (has('rate')) o.rate = num('rate', raw['rate'], 0, 1_000_000, false);
  if (has('broadcastRate')) o.broadcastRate = num('broadcast-rate', raw['broadcastRate'], 0, 100_000, false);
  if (has('size')) o.size = num('size', raw['size'], 40, 1 << 20);
  if (has('ramp')) o.ramp = num('ramp', raw['ramp'], 1, 1_000_000, false);
  if (has('maxConnecting')) o.maxConnecting = num('max-connecting', raw['maxConnecting'], 1, 1_000_000);
  if (has('duration')) o.duration = num('duration', raw['duration'], 0, 7 * 86400, false);
  if (has('drain')) o.drain = num('drain', raw['drain'], 0, 3600, false);
  if (has('maxPublications')) o.maxPublications = num('max-publications', raw['maxPublications'], 0, 1e12);
  if (has('out')) o.out = String(raw['out']);
  o.apiKey = has('apiKey') ? String(raw['apiKey']) : (process.env['HOLDFAST_API_KEY'] ?? '');
  o.prefix = has('prefix') ? String(raw['prefix']) : `bench.${Date.now().toString(36)}.`;
  if (has('clientsPerProcess'))
    o.clientsPerProcess = num('clients-per-process', raw['clientsPerProcess'], 1, 19_000);
  if (has('sourceAddresses')) o.sourceAddresses = raw['sourceAddresses'] !== false;
  if (has('connectionsPerAddress'))
    o.connectionsPerAddress = num('connections-per-address', raw['connectionsPerAddress'], 1, 60_000);
  o.sourceBase = has('sourceBase')
    ? num('source-base', raw['sourceBase'], 0, 16_000_000)
    : Math.floor(Math.random() * 60_000);
  if (has('metrics')) o.metricsUrl = raw['metrics'] === false ? '' : String(raw['metrics']);
  if (has('progress')) o.progress = raw['progress'] !== false;
  if (has('protocol')) {
    const p = String(raw['protocol']);
    if (p !== 'holdfast' && p !== 'generic')
      throw new BenchOptionError(`--protocol must be holdfast or generic (got ${p}).`);
    o.protocol = p;
  }
  for (const k of ['wsUrl', 'sseUrl', 'pollUrl', 'subscribeMessage', 'publishUrl', 'publishBody'] as const) {
    if (has(k)) o[k] = String(raw[k]);
  }
  if (has('publishMethod')) o.publishMethod = String(raw['publishMethod']).toUpperCase();
  if (has('publishHeader')) {
    const list = raw['publishHeader'];
    o.publishHeaders = {};
    for (const h of Array.isArray(list) ? list : [list]) {
      const line = String(h);
      const colon = line.indexOf(':');
      if (colon <= 0) throw new BenchOptionError(`--publish-header must be "Name: value" (got ${line}).`);
      o.publishHeaders[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
  }
  if (has('findLimit') && raw['findLimit'] !== false) {
    const f = raw['findLimit'] === true ? 'clients' : String(raw['findLimit']);
    if (f !== 'clients' && f !== 'rate')
      throw new BenchOptionError(`--find-limit takes clients or rate (got ${f}).`);
    o.findLimit = f;
  }
  if (has('stepFactor')) o.stepFactor = num('step-factor', raw['stepFactor'], 1.01, 100, false);
  if (has('maxSteps')) o.maxSteps = num('max-steps', raw['maxSteps'], 1, 100);
  if (has('maxP99')) o.maxP99Ms = num('max-p99', raw['maxP99'], 0, 3_600_000, false);
  if (has('maxLost')) o.maxLost = num('max-lost', raw['maxLost'], 0, 1e12);
  if (has('maxConnectErrors'))
    o.maxConnectErrorRatio = num('max-connect-errors', raw['maxConnectErrors'], 0, 1, false);
  if (has('stallFraction')) o.stallFraction = num('stall-fraction', raw['stallFraction'], 0, 1, false);
  if (has('stallResume')) o.stallResume = num('stall-resume', raw['stallResume'], 0, 7 * 86400, false);
  return o;
}

/**
 * Whether client `i` (global index) is one of the stalled ones: `fraction` of the clients,
 * spread evenly over the indexes (so over transports and channels too).
 */
export function isStalled(i: number, fraction: number): boolean {
  if (fraction <= 0) return false;
  return Math.floor((i + 1) * fraction) > Math.floor(i * fraction);
}

/** Fills {name} placeholders; unknown names stay as they are. */
export function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{([a-z]+)\}/g, (m, k: string) => values[k] ?? m);
}

/** The ws:// (or wss://) form of an http(s) URL. */
export function wsBase(url: string): string {
  return url.replace(/^http/, 'ws');
}

/** Whether the URL's host is a loopback address (127.0.0.0/8, localhost, ::1). */
export function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}

/** Transport of client number `i`. */
export function transportOf(choice: TransportChoice, i: number): Transport {
  if (choice !== 'mix') return choice;
  return (['ws', 'sse', 'poll'] as const)[i % 3]!;
}

/** Channel names: channel i is prefix + i, the broadcast channel prefix + 'all'. */
export function channelName(o: Pick<BenchOptions, 'prefix' | 'channels'>, index: number): string {
  return index === o.channels ? o.prefix + 'all' : o.prefix + index;
}
