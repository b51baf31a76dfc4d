/**
 * Every option Holdfast takes, with its default, its environment variable and its meaning, in
 * one table. Sources, later wins: defaults, a JSON file (`--config` or HOLDFAST_CONFIG), the
 * environment (HOLDFAST_<NAME in SNAKE_CASE>), command-line flags (--kebab-case). Validated at
 * boot; a bad value stops the server with a message saying what to change.
 */
export type Kind = 'int' | 'string' | 'bool' | 'list' | 'json';

export interface OptionSpec {
  kind: Kind;
  default: number | string | boolean | string[] | null;
  doc: string;
  min?: number;
  max?: number;
  choices?: readonly string[];
}

export const OPTIONS = {
  port: { kind: 'int', default: 8080, min: 0, max: 65535, doc: 'TCP port of the HTTP server.' },
  host: { kind: 'string', default: '0.0.0.0', doc: 'Address to listen on.' },
  apiKey: {
    kind: 'string',
    default: '',
    doc: 'Key for the HTTP API (X-API-Key). Empty: one is made and printed. Shorter than 16 characters: a warning at start.',
  },
  keyFailuresPerMinute: {
    kind: 'int',
    default: 10,
    min: 0,
    max: 1_000_000,
    doc:
      'Wrong API keys (HTTP API, /metrics, dashboard) one client address may offer per minute in each worker ' +
      '(so up to this times the workers in all); past it every key from it, the right one too, gets 429 ' +
      'too_many_attempts with Retry-After until its minute ends (logged as key_throttled): clients sharing the ' +
      'address are locked out with it, so set trustProxy behind a proxy. IPv6 addresses count by their /64. 0: no limit.',
  },
  metricsRequireKey: {
    kind: 'bool',
    default: false,
    doc: 'GET /metrics requires the API key, as Authorization: Bearer <key> (Prometheus `authorization`) or X-API-Key; 401 without it (docs/METRICS.md).',
  },
  dashboardSessionTtl: {
    kind: 'int',
    default: 43200,
    min: 60,
    max: 30 * 86400,
    doc: 'Seconds a dashboard login lasts (the server forgets the session then; logging out ends it at once).',
  },
  trustProxy: {
    kind: 'bool',
    default: false,
    doc:
      'The server is reached only through a reverse proxy that sets X-Forwarded-For and X-Forwarded-Proto: ' +
      'the client address (for keyFailuresPerMinute) is the last X-Forwarded-For entry (its port dropped; ' +
      'the proxy itself when it is not an IP address), and the dashboard ' +
      'cookie is Secure when X-Forwarded-Proto is https. Off: both headers are ignored (a client could forge them).',
  },
  engine: {
    kind: 'string',
    default: 'memory',
    doc:
      'Engine: memory (one process), redis://[user:password@]host:port[/db] (rediss:// for TLS) or ' +
      'nats://host:port[,nats://...]: every worker and server given the same broker shares channels and history.',
  },
  enginePrefix: {
    kind: 'string',
    default: 'holdfast',
    doc: 'Prefix of Redis keys and channels, or of NATS subjects and the JetStream stream, so several deployments can share one broker.',
  },
  engineConnectTimeout: {
    kind: 'int',
    default: 10,
    min: 1,
    max: 300,
    doc: 'Seconds the server waits at start for its broker (retrying with back-off) before it stops with an error.',
  },
  natsHistory: {
    kind: 'bool',
    default: true,
    doc: 'With a nats:// engine, keep history in JetStream (nats-server -js). false: pub/sub only, no history.',
  },
  workers: {
    kind: 'string',
    default: 'auto',
    doc: 'Worker processes: a number, or auto (one per core, more if `connections` needs them).',
  },
  connections: {
    kind: 'int',
    default: 0,
    min: 0,
    max: 10_000_000,
    doc: 'Connections this server should hold; sizes `workers: auto` against the open-files limit.',
  },
  workerSemiSpace: {
    kind: 'int',
    default: 2,
    min: 0,
    max: 256,
    doc:
      "MiB of each worker process's V8 young-generation semi-space (--max-semi-space-size; 0: V8's own, up to " +
      '16 or more; with one process, give node the flag yourself). ' +
      'V8 grows it to its maximum during a ramp of connections and keeps it: 2 cut idle RSS per WebSocket from ' +
      '5.4 to 3.6 KiB at 14,000 connections, with no measurable CPU cost per broadcast.',
  },
  maxRestarts: {
    kind: 'int',
    default: 5,
    min: 0,
    max: 1000,
    doc: 'Worker restarts allowed within restartWindow.',
  },
  restartWindow: {
    kind: 'int',
    default: 10,
    min: 1,
    max: 3600,
    doc: 'Seconds over which worker restarts are counted.',
  },
  backlog: {
    kind: 'int',
    default: 4096,
    min: 1,
    max: 65535,
    doc: 'Listen backlog (pending connections); the kernel caps it at net.core.somaxconn.',
  },
  historySize: {
    kind: 'int',
    default: 1000,
    min: 0,
    max: 1_000_000,
    doc: 'Publications kept per channel (0: none; offsets go on), unless its namespace sets its own historySize.',
  },
  historyTtl: {
    kind: 'int',
    default: 600,
    min: 1,
    max: 30 * 86400,
    doc: 'Seconds a publication is kept, unless its namespace sets its own historyTtl.',
  },
  historyMetaTtl: {
    kind: 'int',
    default: 86400,
    min: 1,
    max: 365 * 86400,
    doc: "Seconds a channel's epoch and offset outlive its last publication.",
  },
  maxRecover: {
    kind: 'int',
    default: 1000,
    min: 0,
    max: 1_000_000,
    doc: 'Most publications replayed to one resuming subscription; past that, recovered: false. Capped at the largest historySize (of the server and its namespaces).',
  },
  maxChannelLength: { kind: 'int', default: 255, min: 1, max: 1024, doc: 'Longest channel name.' },
  maxChannelsPerConnection: {
    kind: 'int',
    default: 128,
    min: 1,
    max: 100_000,
    doc: 'Channels one client may follow.',
  },
  maxFrameBytes: {
    kind: 'int',
    default: 65536,
    min: 128,
    max: 16 << 20,
    doc: 'Largest WebSocket message from a client, its fragments together (close 1009 past it, or past 128 fragments).',
  },
  maxBodyBytes: {
    kind: 'int',
    default: 1 << 20,
    min: 128,
    max: 64 << 20,
    doc: 'Largest HTTP API body (413 past it).',
  },
  maxQueuedBytes: {
    kind: 'int',
    default: 1 << 20,
    min: 1024,
    max: 1 << 30,
    doc: 'Bytes that may wait for one slow client before it is disconnected (slow consumer).',
  },
  pingInterval: {
    kind: 'int',
    default: 25,
    min: 1,
    max: 3600,
    doc: 'Seconds between WebSocket pings; a peer silent for two is closed.',
  },
  sseHeartbeat: {
    kind: 'int',
    default: 15,
    min: 1,
    max: 3600,
    doc: 'Seconds between SSE comment heartbeats.',
  },
  pollTimeout: {
    kind: 'int',
    default: 25,
    min: 1,
    max: 300,
    doc: 'Seconds a long-poll request is held when nothing is new.',
  },
  maxConnections: {
    kind: 'int',
    default: 0,
    min: 0,
    max: 10_000_000,
    doc: 'Long-lived connections per worker (0: the open-files limit less a reserve). Past it: 503 / close 1013.',
  },
  maxConnectionsTotal: {
    kind: 'int',
    default: 0,
    min: 0,
    max: 100_000_000,
    doc: 'Long-lived connections for the whole server, shared evenly by its workers (0: no cap).',
  },
  maxNewConnectionsPerSecond: {
    kind: 'int',
    default: 5000,
    min: 0,
    max: 1_000_000,
    doc:
      'New WebSocket and SSE streams per second per worker (0: no cap); past it: 503 / close 1013. ' +
      'Long-polls and other requests neither count nor are refused by it.',
  },
  memoryWatermark: {
    kind: 'int',
    default: 3072,
    min: 0,
    max: 1_000_000,
    doc: 'MiB of RSS per worker, and of the cluster primary (it holds history for every worker), above which new connections are refused (0: off).',
  },
  maxSubscribersPerChannel: {
    kind: 'int',
    default: 0,
    min: 0,
    max: 100_000_000,
    doc: 'Subscribers one channel may have in one worker (0: no cap).',
  },
  maxClientFramesPerSecond: {
    kind: 'int',
    default: 100,
    min: 0,
    max: 1_000_000,
    doc: 'WebSocket frames per second one client may send, control frames and fragments included (0: no cap); past it: rate_limited errors, then close 3006.',
  },
  firstMessageTimeout: {
    kind: 'int',
    default: 10,
    min: 1,
    max: 3600,
    doc: 'Seconds a new WebSocket may stay without subscribing before it is closed (3003).',
  },
  idleTimeout: {
    kind: 'int',
    default: 60,
    min: 1,
    max: 86400,
    doc: 'Seconds a WebSocket may stay with no subscription before it is closed (3003).',
  },
  headersTimeout: {
    kind: 'int',
    default: 10,
    min: 1,
    max: 600,
    doc: 'Seconds to receive HTTP request headers (slowloris).',
  },
  requestTimeout: {
    kind: 'int',
    default: 30,
    min: 1,
    max: 3600,
    doc: 'Seconds to receive a whole HTTP request (headers and body).',
  },
  maxHeaderBytes: {
    kind: 'int',
    default: 16384,
    min: 1024,
    max: 1 << 20,
    doc: 'Largest HTTP request header block (431 past it).',
  },
  maxUrlLength: {
    kind: 'int',
    default: 8192,
    min: 256,
    max: 1 << 20,
    doc: 'Longest request URL (414 past it).',
  },
  drainTimeout: {
    kind: 'int',
    default: 10,
    min: 1,
    max: 600,
    doc: 'Seconds a graceful shutdown may take: clients are told to reconnect in batches over half of it.',
  },
  tokenHmacSecret: {
    kind: 'string',
    default: '',
    doc:
      'Secret of HS256/384/512 connection tokens (docs/AUTH.md). With a token key or connectProxy set, ' +
      'connections may carry a token (?token= or Authorization: Bearer) and user channels (#42) admit only their users.',
  },
  tokenPublicKey: {
    kind: 'string',
    default: '',
    doc: 'Public key of RS*, PS*, ES* or EdDSA connection tokens: PEM text (SPKI or certificate) or the path of a PEM file.',
  },
  tokenJwksUrl: {
    kind: 'string',
    default: '',
    doc: "URL of a JWKS (the identity provider's keys): fetched, cached, refetched when a token names an unknown kid (at most once per jwksMinRefetch).",
  },
  jwksMinRefetch: {
    kind: 'int',
    default: 30,
    min: 1,
    max: 86400,
    doc: 'Seconds between two fetches of tokenJwksUrl prompted by unknown kids (a flood of forged kids fetches no more often).',
  },
  tokenAudience: { kind: 'string', default: '', doc: 'When set, a token must carry this aud claim.' },
  tokenIssuer: { kind: 'string', default: '', doc: 'When set, a token must carry this iss claim.' },
  namespaces: {
    kind: 'json',
    default: null,
    doc:
      'Namespaces by name ("" the default), each {access: "public"|"token", anonymous, presence, joinLeave, ' +
      'clientPublish, historySize, historyTtl} (docs/AUTH.md). Only these exist; unset: every channel is public as in v1.',
  },
  connectProxy: {
    kind: 'string',
    default: '',
    doc: "URL Holdfast POSTs each new connection to (its cookies and authorization header among the headers); the application's backend answers who it is (docs/AUTH.md). Needs allowedOrigins other than *.",
  },
  subscribeProxy: {
    kind: 'string',
    default: '',
    doc: 'URL Holdfast POSTs each subscription to in token-only namespaces that the token does not grant; the backend allows or refuses it.',
  },
  publishProxy: {
    kind: 'string',
    default: '',
    doc: 'URL Holdfast POSTs each client publication to; the backend allows or refuses it (and may replace its data).',
  },
  proxyTimeout: {
    kind: 'int',
    default: 3000,
    min: 50,
    max: 60_000,
    doc: 'Milliseconds a proxy request may take; past it the client is refused (backend_unavailable), never let in.',
  },
  proxyMaxInFlight: {
    kind: 'int',
    default: 200,
    min: 1,
    max: 100_000,
    doc: 'Proxy requests one worker may have open at once (keep-alive connections); past it clients are refused with backend_unavailable.',
  },
  proxyHeaders: {
    kind: 'list',
    default: [
      'cookie',
      'authorization',
      'origin',
      'user-agent',
      'accept-language',
      'x-forwarded-for',
      'x-real-ip',
    ],
    doc: 'Request headers forwarded to connectProxy, subscribeProxy and publishProxy (lower case).',
  },
  clientPublishPerSecond: {
    kind: 'int',
    default: 20,
    min: 0,
    max: 100_000,
    doc: 'Publications one WebSocket connection may make per second in clientPublish namespaces, in bursts of as many (then rate_limited); 0: no limit.',
  },
  presenceTimeout: {
    kind: 'int',
    default: 15,
    min: 2,
    max: 3600,
    doc: "Seconds without a heartbeat after which another server reaps a server's presence members (Redis, NATS engines): they leave within this plus a third of it. The workers of one server (memory engine) leave at once when they exit.",
  },
  allowedOrigins: {
    kind: 'list',
    default: ['*'],
    doc: 'Origins allowed for browsers (WebSocket, SSE, long-poll); comma-separated, * for any.',
  },
  logLevel: {
    kind: 'string',
    default: 'info',
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    doc: 'Log level.',
  },
  logFormat: {
    kind: 'string',
    default: 'auto',
    choices: ['auto', 'json', 'pretty'],
    doc: 'Log lines: json, pretty (time LEVEL msg key=value), or auto (pretty when stdout is a terminal).',
  },
} as const satisfies Record<string, OptionSpec>;
