import type { Config } from '../config/config.js';
import { HoldfastError } from '../contract/codes.js';
import type { Identity } from '../contract/identity.js';
import type { Backend, ConnectInfo } from './access.js';
import {
  isExpired,
  MalformedAnswer,
  parseConnectAnswer,
  parsePublishAnswer,
  parseSubscribeAnswer,
} from './proxy-answers.js';
import { type ProxyAnswer, type ProxyFailure, ProxyHttp, ProxyRequestError } from './proxy-http.js';

/**
 * The application's backend over HTTP (access.ts Backend; docs/AUTH.md "Proxy to the
 * application's backend"). Each question is one POST of JSON to its URL; the answer's status
 * decides: 200 allows (the body read by proxy-answers.ts), 401 and 403 refuse
 * (permission_denied), anything else, or no complete answer in time, is a fault of the backend
 * (backend_unavailable): the client is refused, never let in.
 */

export type ProxyName = 'connect' | 'subscribe' | 'publish';

/** Why a question got no usable answer: a failure of the request, or an answer off the contract. */
export type ProxyFault = ProxyFailure | 'status' | 'malformed';

/** Counts since start, as plain fields for metrics. */
export interface ProxyStats {
  /** Questions asked (including those refused at the cap without a request). */
  requests: number;
  /** Answers that allowed. */
  allowed: number;
  /** Answers 401 or 403. */
  refused: number;
  /** Questions answered backend_unavailable, by cause. */
  failures: Record<ProxyFault, number>;
}

/** Told of every backend fault (for a rate-limited log line: the client only sees backend_unavailable). */
export type FaultListener = (proxy: ProxyName, fault: ProxyFault, detail: string) => void;

export type ProxyConfig = Pick<
  Config,
  | 'connectProxy'
  | 'subscribeProxy'
  | 'publishProxy'
  | 'proxyTimeout'
  | 'proxyMaxInFlight'
  | 'proxyHeaders'
  | 'maxChannelLength'
  | 'maxFrameBytes'
>;

/**
 * Header names never forwarded whatever proxyHeaders says: they describe one HTTP connection
 * (RFC 9110 7.6.1) or the framing of one message, not the client.
 */
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'content-type',
  'expect',
  'sec-websocket-key',
  'sec-websocket-extensions',
]);

/** What the client is told: the kind of fault, never the backend's details. */
const FAULT_MESSAGES: Record<ProxyFault, string> = {
  at_cap: "Too many requests to the application's backend at once; retry later.",
  timeout: "The application's backend did not answer in time; retry later.",
  network: "The application's backend could not be reached; retry later.",
  too_large: "The application's backend answered off the contract; retry later.",
  status: "The application's backend failed; retry later.",
  malformed: "The application's backend answered off the contract; retry later.",
};

export class ProxyBackend implements Backend {
  readonly connect: ((c: ConnectInfo) => Promise<Identity | null>) | null;
  readonly subscribe: ((identity: Identity | null, channel: string, c: ConnectInfo) => Promise<void>) | null;
  readonly publish:
    | ((identity: Identity | null, channel: string, data: string, c: ConnectInfo) => Promise<string>)
    | null;
  readonly stats: ProxyStats;
  readonly #http: ProxyHttp;
  readonly #headers: readonly string[];
  readonly #maxChannelLength: number;
  readonly #maxDataBytes: number;
  readonly #onFault: FaultListener | null;

  constructor(config: ProxyConfig, onFault: FaultListener | null = null) {
    this.stats = {
      requests: 0,
      allowed: 0,
      refused: 0,
      failures: { at_cap: 0, timeout: 0, network: 0, too_large: 0, status: 0, malformed: 0 },
    };
    this.#http = new ProxyHttp({ timeoutMs: config.proxyTimeout, maxInFlight: config.proxyMaxInFlight });
    this.#headers = [...new Set(config.proxyHeaders.map((h) => h.trim().toLowerCase()))].filter(
      (h) => h !== '' && !NOT_FORWARDED.has(h),
    );
    this.#maxChannelLength = config.maxChannelLength;
    this.#maxDataBytes = config.maxFrameBytes;
    this.#onFault = onFault;
    const connectUrl = optionalUrl(config.connectProxy);
    const subscribeUrl = optionalUrl(config.subscribeProxy);
    const publishUrl = optionalUrl(config.publishProxy);
    this.connect = connectUrl === null ? null : (c) => this.#connect(connectUrl, c);
    this.subscribe = subscribeUrl === null ? null : (id, ch, c) => this.#subscribe(subscribeUrl, id, ch, c);
    this.publish =
      publishUrl === null ? null : (id, ch, data, c) => this.#publish(publishUrl, id, ch, data, c);
  }

  /** Requests open now. */
  get inFlight(): number {
    return this.#http.inFlight;
  }

  /** Closes the keep-alive connections (at shutdown); questions in flight fail with backend_unavailable. */
  close(): void {
    this.#http.close();
  }

  async #connect(url: URL, c: ConnectInfo): Promise<Identity | null> {
    const body = JSON.stringify({
      transport: c.transport,
      headers: this.#forwarded(c),
      remoteAddr: c.remoteAddr,
    });
    const answer = await this.#ask('connect', url, body, true);
    const identity = this.#read('connect', () => parseConnectAnswer(answer.body, this.#maxChannelLength));
    if (identity !== null && isExpired(identity, Date.now())) {
      this.stats.refused++;
      throw new HoldfastError('permission_denied', "The backend's expireAt for this connection has passed.");
    }
    this.stats.allowed++;
    return identity;
  }

  async #subscribe(url: URL, identity: Identity | null, channel: string, c: ConnectInfo): Promise<void> {
    const body = JSON.stringify({
      user: identity?.user ?? '',
      channel,
      transport: c.transport,
      info: identity?.info,
      headers: this.#forwarded(c),
    });
    const answer = await this.#ask('subscribe', url, body, true);
    this.#read('subscribe', () => parseSubscribeAnswer(answer.body));
    this.stats.allowed++;
  }

  async #publish(
    url: URL,
    identity: Identity | null,
    channel: string,
    data: string,
    c: ConnectInfo,
  ): Promise<string> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      throw new HoldfastError('invalid_json');
    }
    const body = JSON.stringify({
      user: identity?.user ?? '',
      channel,
      data: parsed,
      transport: c.transport,
      info: identity?.info,
      headers: this.#forwarded(c),
    });
    // Not retried: the backend may act on a publication (store it, notify), so it is asked once.
    const answer = await this.#ask('publish', url, body, false);
    const out = this.#read('publish', () => parsePublishAnswer(answer.body, data, this.#maxDataBytes));
    this.stats.allowed++;
    return out;
  }

  /** The answer to one question when its status is 200; throws permission_denied or backend_unavailable. */
  async #ask(proxy: ProxyName, url: URL, body: string, retryable: boolean): Promise<ProxyAnswer> {
    this.stats.requests++;
    let answer: ProxyAnswer;
    try {
      answer = await this.#http.post(url, body, retryable);
    } catch (err) {
      if (err instanceof ProxyRequestError) throw this.#fault(proxy, err.kind, err.message);
      throw err;
    }
    if (answer.status === 200) return answer;
    if (answer.status === 401 || answer.status === 403) {
      this.stats.refused++;
      throw new HoldfastError('permission_denied');
    }
    throw this.#fault(proxy, 'status', `status ${answer.status}`);
  }

  /** Runs a parser of proxy-answers.ts: a MalformedAnswer is a fault of the backend. */
  #read<T>(proxy: ProxyName, parse: () => T): T {
    try {
      return parse();
    } catch (err) {
      if (err instanceof MalformedAnswer) throw this.#fault(proxy, 'malformed', err.message);
      throw err;
    }
  }

  #fault(proxy: ProxyName, fault: ProxyFault, detail: string): HoldfastError {
    this.stats.failures[fault]++;
    this.#onFault?.(proxy, fault, detail);
    return new HoldfastError('backend_unavailable', FAULT_MESSAGES[fault]);
  }

  /** The configured headers the client sent, and no others. */
  #forwarded(c: ConnectInfo): Record<string, string> {
    const out: Record<string, string> = Object.create(null);
    for (const name of this.#headers) {
      const v = Object.hasOwn(c.headers, name) ? c.headers[name] : undefined;
      if (typeof v === 'string') out[name] = v;
    }
    return out;
  }
}

function optionalUrl(s: string): URL | null {
  return s === '' ? null : new URL(s);
}
