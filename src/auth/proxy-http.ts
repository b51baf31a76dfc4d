import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * The HTTP client of the backend proxy (proxy.ts): POSTs of JSON over keep-alive connections,
 * each with a hard deadline, a cap on the bytes of its answer, and a cap on how many are in
 * flight at once. Nothing waits in a queue: past the cap a request fails at once, so a slow
 * backend costs a bounded number of sockets and never an unbounded backlog of clients.
 *
 * node:http rather than fetch: its Agent bounds the sockets per host and the idle ones kept, and
 * destroying a request frees its socket at once, whatever state the answer is in.
 */

/** Why a proxy request did not get a complete answer (counted in ProxyStats.failures). */
export type ProxyFailure =
  /** proxyMaxInFlight requests were already open. */
  | 'at_cap'
  /** No complete answer within proxyTimeout (slow headers or a trickling body alike). */
  | 'timeout'
  /** Refused or reset connection, DNS failure, TLS error, a body cut short. */
  | 'network'
  /** The answer is larger than MAX_ANSWER_BYTES. */
  | 'too_large';

export class ProxyRequestError extends Error {
  readonly kind: ProxyFailure;
  constructor(kind: ProxyFailure, message: string) {
    super(message);
    this.kind = kind;
  }
}

export interface ProxyAnswer {
  readonly status: number;
  /** The body as UTF-8 text ('' when empty). */
  readonly body: string;
}

export interface ProxyHttpOptions {
  /** Milliseconds from the start of a request to the last byte of its answer (proxyTimeout). */
  readonly timeoutMs: number;
  /** Requests open at once, over every proxy URL together (proxyMaxInFlight). */
  readonly maxInFlight: number;
}

/** Largest answer read; an identity, a decision or a replaced publication fits well within it. */
export const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Idle keep-alive sockets are closed after this long, shorter than the keep-alive time-out of
 * common servers (Node's own is 5 s), so the backend rarely closes one under a new request.
 */
const IDLE_SOCKET_MS = 4000;

/** Identifies Holdfast's requests to the backend and the version of their bodies (docs/AUTH.md). */
export const PROXY_USER_AGENT = 'holdfast-proxy/1';

/** Errors of a kept-alive socket the server closed just as it was reused: the request never reached it. */
const STALE_SOCKET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

export class ProxyHttp {
  readonly #maxInFlight: number;
  readonly #pool: Pool;
  #inFlight: number;

  constructor(opts: ProxyHttpOptions) {
    this.#maxInFlight = opts.maxInFlight;
    // maxSockets equal to the cap: a request under the cap always gets a socket without queueing.
    const agentOpts = {
      keepAlive: true,
      maxSockets: opts.maxInFlight,
      maxFreeSockets: opts.maxInFlight,
      timeout: IDLE_SOCKET_MS,
      scheduling: 'lifo' as const,
    };
    this.#pool = {
      timeoutMs: opts.timeoutMs,
      http: new HttpAgent(agentOpts),
      https: new HttpsAgent(agentOpts),
      release: () => {
        this.#inFlight--;
      },
    };
    this.#inFlight = 0;
  }

  /** Requests open now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * POSTs `body` (JSON text) to `url` and resolves with the complete answer, whatever its status;
   * rejects with a ProxyRequestError. `retryable`: the request asks and changes nothing, so it is
   * sent once more (within the same deadline) when a reused keep-alive socket turns out closed.
   */
  post(url: URL, body: string, retryable: boolean): Promise<ProxyAnswer> {
    if (this.#inFlight >= this.#maxInFlight) {
      return Promise.reject(
        new ProxyRequestError('at_cap', `${this.#maxInFlight} proxy requests already in flight`),
      );
    }
    this.#inFlight++;
    return new Promise<ProxyAnswer>((resolve, reject) => {
      new Exchange(this.#pool, url, Buffer.from(body), retryable, resolve, reject).start();
    });
  }

  /** Closes every socket, idle or busy (at shutdown); requests in flight fail with 'network'. */
  close(): void {
    this.#pool.http.destroy();
    this.#pool.https.destroy();
  }
}

/** The parts of ProxyHttp an Exchange uses. */
interface Pool {
  readonly timeoutMs: number;
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
  /** Frees the slot of a finished request. */
  readonly release: () => void;
}

function openRequest(pool: Pool, url: URL, length: number): ClientRequest {
  const headers = {
    'content-type': 'application/json',
    'content-length': String(length),
    accept: 'application/json',
    'user-agent': PROXY_USER_AGENT,
  };
  return url.protocol === 'https:'
    ? httpsRequest(url, { method: 'POST', agent: pool.https, headers })
    : httpRequest(url, { method: 'POST', agent: pool.http, headers });
}

/**
 * One proxy request: its attempts (at most two), its deadline, its answer; settles once. Its
 * timer is its own: proxy requests come once per connection or subscription, never per message,
 * and at most proxyMaxInFlight are open.
 */
class Exchange {
  readonly #pool: Pool;
  readonly #url: URL;
  readonly #body: Buffer;
  #retryable: boolean;
  readonly #resolve: (a: ProxyAnswer) => void;
  readonly #reject: (e: ProxyRequestError) => void;
  #req: ClientRequest | null;
  #timer: NodeJS.Timeout | null;
  #done: boolean;

  constructor(
    pool: Pool,
    url: URL,
    body: Buffer,
    retryable: boolean,
    resolve: (a: ProxyAnswer) => void,
    reject: (e: ProxyRequestError) => void,
  ) {
    this.#pool = pool;
    this.#url = url;
    this.#body = body;
    this.#retryable = retryable;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#req = null;
    this.#timer = null;
    this.#done = false;
  }

  start(): void {
    this.#timer = setTimeout(() => {
      this.#fail(new ProxyRequestError('timeout', `no complete answer within ${this.#pool.timeoutMs} ms`));
    }, this.#pool.timeoutMs);
    this.#attempt();
  }

  #attempt(): void {
    let req: ClientRequest;
    try {
      req = openRequest(this.#pool, this.#url, this.#body.length);
    } catch (err) {
      this.#fail(new ProxyRequestError('network', (err as Error).message));
      return;
    }
    this.#req = req;
    let answered = false;
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (this.#done || req !== this.#req) return;
      if (!answered && this.#retryable && req.reusedSocket && STALE_SOCKET_ERRORS.has(err.code ?? '')) {
        this.#retryable = false;
        this.#attempt();
        return;
      }
      this.#fail(new ProxyRequestError('network', err.message));
    });
    req.on('response', (res: IncomingMessage) => {
      answered = true;
      this.#read(res);
    });
    req.end(this.#body);
  }

  #read(res: IncomingMessage): void {
    const declared = Number(res.headers['content-length']);
    if (declared > MAX_ANSWER_BYTES) {
      this.#fail(new ProxyRequestError('too_large', `answer of ${declared} bytes (cap ${MAX_ANSWER_BYTES})`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      if (this.#done) return;
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) {
        this.#fail(new ProxyRequestError('too_large', `answer over ${MAX_ANSWER_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => {
      if (this.#done) return;
      this.#settle();
      this.#resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks, size).toString('utf8') });
    });
    res.on('error', (err) => this.#fail(new ProxyRequestError('network', err.message)));
    res.on('close', () => {
      if (!res.complete) this.#fail(new ProxyRequestError('network', 'answer cut short'));
    });
  }

  /** Ends the request with `err`: its socket is destroyed (never reused half-read), its slot freed. */
  #fail(err: ProxyRequestError): void {
    if (this.#done) return;
    this.#settle();
    this.#req?.destroy();
    this.#reject(err);
  }

  #settle(): void {
    this.#done = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#pool.release();
  }
}
