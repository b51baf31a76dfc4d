import http from 'node:http';
import https from 'node:https';
import { type Histogram, newHistogram, recordMs } from './histogram.js';
import type { PublicationLog } from './messages.js';
import { type BenchOptions, channelName, fill } from './options.js';
import { payloadJson } from './payload.js';
import { now } from './pool.js';

/**
 * Publishes over the HTTP API at a set rate: `rate` per second round-robin over the channels,
 * `broadcastRate` per second on the broadcast channel. Each publication carries its channel,
 * sequence number and send time; the log of send times and failures is what the children
 * count losses against.
 */
export class Publisher {
  readonly #o: BenchOptions;
  readonly #agent: http.Agent;
  readonly #seq: number[];
  readonly #sentAt: number[][];
  readonly #failed: number[][];
  readonly apiHist: Histogram = newHistogram();
  published = 0;
  failures = 0;
  /** Requests sent again after a reset on a kept-alive socket (see publish()). */
  retries = 0;
  /** Why publish requests failed: HTTP status or error code, with counts. */
  readonly failureReasons: Record<string, number> = {};
  inFlight = 0;
  /** Publications that were due but waited because too many requests were in flight. */
  delayed = 0;
  #timer: NodeJS.Timeout | null = null;
  #next = 0;
  #began = 0;
  #dueChannel = 0;
  #dueBroadcast = 0;
  #doneChannel = 0;
  #doneBroadcast = 0;
  #idle: (() => void) | null = null;
  readonly #maxInFlight = 256;
  /** One request at a time per channel, so the server sees each channel's sequence in order. */
  readonly #busy: Uint8Array;
  readonly #queued: Uint32Array;

  constructor(o: BenchOptions) {
    this.#o = o;
    const isHttps = o.publishUrl.startsWith('https') || o.url.startsWith('https');
    this.#agent = isHttps
      ? new https.Agent({ keepAlive: true, maxSockets: 64 })
      : new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.#seq = new Array(o.channels + 1).fill(0);
    this.#sentAt = Array.from({ length: o.channels + 1 }, () => []);
    this.#failed = Array.from({ length: o.channels + 1 }, () => []);
    this.#busy = new Uint8Array(o.channels + 1);
    this.#queued = new Uint32Array(o.channels + 1);
  }

  /** Publications sent on the broadcast channel. */
  get broadcasts(): number {
    return this.#seq[this.#o.channels]!;
  }

  start(): void {
    this.#began = performance.now();
    this.#timer = setInterval(() => this.#tick(), 5);
  }

  #limitReached(): boolean {
    const max = this.#o.maxPublications;
    return max > 0 && this.#doneChannel + this.#doneBroadcast >= max;
  }

  #tick(): void {
    const elapsed = (performance.now() - this.#began) / 1000;
    this.#dueChannel = Math.floor(elapsed * this.#o.rate);
    this.#dueBroadcast = Math.floor(elapsed * this.#o.broadcastRate);
    while (
      (this.#doneChannel < this.#dueChannel || this.#doneBroadcast < this.#dueBroadcast) &&
      !this.#limitReached()
    ) {
      if (this.inFlight >= this.#maxInFlight) {
        this.delayed++;
        return;
      }
      // Interleave both kinds by which one is further behind its schedule.
      const chLag = this.#o.rate > 0 ? (this.#dueChannel - this.#doneChannel) / this.#o.rate : 0;
      const bcLag =
        this.#o.broadcastRate > 0 ? (this.#dueBroadcast - this.#doneBroadcast) / this.#o.broadcastRate : 0;
      if (this.#doneChannel < this.#dueChannel && chLag >= bcLag) {
        this.#doneChannel++;
        this.#due(this.#next);
        this.#next = (this.#next + 1) % this.#o.channels;
      } else {
        this.#doneBroadcast++;
        this.#due(this.#o.channels);
      }
    }
  }

  #due(channel: number): void {
    if (this.#busy[channel] === 1) this.#queued[channel]!++;
    else this.publish(channel);
  }

  /** Sends one publication on channel index `channel`. */
  publish(channel: number): void {
    const o = this.#o;
    this.#busy[channel] = 1;
    const seq = ++this.#seq[channel]!;
    const sentAt = now();
    this.#sentAt[channel]!.push(sentAt);
    const name = channelName(o, channel);
    const data = payloadJson(channel, seq, sentAt, o.size);
    const values = {
      url: o.url,
      key: o.apiKey,
      channel: name,
      data,
      text: data.slice(1, -1),
    };
    const url = new URL(fill(o.publishUrl, { ...values, channel: encodeURIComponent(name) }));
    const body = o.publishMethod === 'GET' ? '' : fill(o.publishBody, values);
    const headers: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(o.publishHeaders)) headers[k] = fill(v, values);
    if (body !== '') headers['content-length'] = Buffer.byteLength(body);
    this.inFlight++;
    this.published++;
    const mod = url.protocol === 'https:' ? https : http;
    let settled = false;
    const done = (failure: string): void => {
      if (settled) return;
      settled = true;
      if (failure !== '') this.failureReasons[failure] = (this.failureReasons[failure] ?? 0) + 1;
      this.#done(channel, seq, sentAt, failure === '');
    };
    const send = (retry: boolean): void => {
      let answered = false;
      // The retry takes a new connection of its own (agent: false): the pool's other idle
      // sockets may have been closed by the same keep-alive time-out, and a retry on one of them
      // fails the same way (test/loadgen/publisher.test.ts; the likely cause of the 424 failed
      // publications of run 4 in docs/BENCHMARKS.md, not confirmed there).
      const agent = retry ? this.#agent : false;
      const req = mod.request(url, { method: o.publishMethod, headers, agent }, (res) => {
        answered = true;
        res.resume();
        const status = res.statusCode ?? 0;
        res.on('end', () => done(status >= 200 && status < 300 ? '' : `HTTP ${status}`));
        res.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
      });
      req.setTimeout(30_000, () => req.destroy(Object.assign(new Error('timed out'), { code: 'TIMEOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed as this request went out (node:http's
        // keep-alive race; Node's documentation advises this retry): the server never read the
        // request, so sending it once more on a fresh socket cannot publish it twice.
        if (retry && !answered && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          this.retries++;
          send(false);
          return;
        }
        done(err.code ?? err.message);
      });
      req.end(body);
    };
    send(true);
  }

  #done(channel: number, seq: number, sentAt: number, ok: boolean): void {
    this.inFlight--;
    this.#busy[channel] = 0;
    if (this.#queued[channel]! > 0) {
      this.#queued[channel]!--;
      this.publish(channel);
    }
    if (ok) recordMs(this.apiHist, now() - sentAt);
    else {
      this.failures++;
      this.#failed[channel]!.push(seq);
    }
    if (this.inFlight === 0 && this.#idle !== null) {
      const idle = this.#idle;
      this.#idle = null;
      idle();
    }
  }

  /** Stops publishing and waits (at most `timeoutMs`) for requests in flight. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    // Due but never sent (their channel was busy): they have no sequence number yet.
    this.#queued.fill(0);
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        this.#idle = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    this.#agent.destroy();
  }

  /** The publication limit is reached and every publication is sent and answered. */
  get limitDone(): boolean {
    return this.#limitReached() && this.inFlight === 0 && this.#queued.every((q) => q === 0);
  }

  log(): PublicationLog {
    return { sentAt: this.#sentAt.map((a) => Float64Array.from(a)), failed: this.#failed.map((f) => [...f]) };
  }
}
