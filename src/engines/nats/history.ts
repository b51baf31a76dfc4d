import { createHash } from 'node:crypto';
import {
  DeliverPolicy,
  headers,
  type JetStreamClient,
  type JetStreamManager,
  type MsgHdrs,
  NatsError,
  nanos,
  type StoredMsg,
} from 'nats';
import { newEpoch } from '../../contract/positions.js';
import type { Publication } from '../../contract/stream.js';
import { continues, emptyPosition } from '../empty.js';
import { type ChannelLimits, ChannelLimitsTable, type HistoryLimits } from '../limits.js';
import type { HistoryReadOptions, HistoryResult } from '../types.js';
import type { NatsSubjects } from './subjects.js';

const H_EPOCH = 'Hf-Epoch';
const H_OFFSET = 'Hf-Offset';
const H_TIME = 'Hf-Time';
/** When the epoch began (its first publication), carried by every message of it. */
const H_BORN = 'Hf-Born';
/** JetStream's error code for a failed expected-last-subject-sequence check. */
const WRONG_LAST_SEQUENCE = 10071;
const MAX_ATTEMPTS = 50;
/** Channels whose newest message this node remembers (the oldest remembered are forgotten). */
const MAX_HEADS = 10_000;

interface Head {
  /** Stream sequence of the channel's newest message (0: none). */
  seq: number;
  epoch: string;
  offset: number;
  time: number;
  /** NaN for messages written before epochs carried it: such an epoch continues no empty position. */
  born: number;
}

/**
 * Where a channel keeps its history: a JetStream stream, and the beginning of its subjects (the
 * channel's base64url token follows). JetStream's limits (max_msgs_per_subject) are per stream,
 * so channels with different history sizes need different streams.
 */
interface Home {
  readonly stream: string;
  readonly head: string;
  readonly limits: ChannelLimits;
  /** Empty positions of its channels carry it: from the stream's creation, so a recreated stream has another. */
  tag: string;
}

/**
 * Channel history in JetStream, one subject per channel. Each message carries its epoch and
 * offset in headers; an append states the stream sequence of the channel's newest message it
 * builds on (expected last subject sequence), so of two publishers racing for an offset one
 * wins and the other retries: offsets stay consecutive across servers.
 *
 * A stream keeps `size` messages per subject for `metaTtl` (the newest message is the channel's
 * epoch and offset, so it must outlive `ttl`); publications older than `ttl` are left out when
 * reading. Reading a channel with no message writes nothing: the reader gets an empty position
 * (engines/empty.ts) tagged with its stream's creation, and the epoch of the first publication,
 * whose messages carry when it was born, continues it. Times are the publishing and reading
 * servers' clocks.
 *
 * Without namespaces every channel is in one stream, `<prefix>-history` (subjects
 * `<prefix>.h.<channel>`). With namespaces each namespace has a stream of its own,
 * `<prefix>-history-n<namespace>` (subjects `<prefix>.h.n<namespace>.<channel>`, tokens in
 * base64url), with its namespace's historySize as max_msgs_per_subject; reads cut at its
 * historyTtl. JetStream has no per-subject limits within one stream, and trimming a subject
 * after each append would add a request to every publish. A stream per namespace rather than
 * per distinct (historySize, historyTtl) pair: changing a namespace's limits then updates its
 * stream in place (JetStream trims to a lowered max_msgs_per_subject), where a pair's stream
 * would have to hand the namespace's subjects to another (streams may not overlap) and strand
 * their messages. Namespaces are few (the configuration names each one). A channel in no
 * configured namespace (which the core refuses) keeps the server's defaults in
 * `<prefix>-history`. A namespace taken out of the configuration leaves its stream behind; its
 * messages age out after max_age.
 */
export class JetStreamHistory {
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #limits: HistoryLimits;
  readonly #channelLimits: ChannelLimitsTable;
  /** By the limits object a channel has (ChannelLimitsTable.of): the defaults', one per namespace. */
  readonly #homes = new Map<ChannelLimits, Home>();
  /** Newest known message per channel, from this node's own appends; checked by the server. */
  readonly #heads = new Map<string, Head>();

  constructor(js: JetStreamClient, jsm: JetStreamManager, subjects: NatsSubjects, limits: HistoryLimits) {
    this.#js = js;
    this.#jsm = jsm;
    this.#limits = limits;
    this.#channelLimits = new ChannelLimitsTable(limits);
    for (const l of this.#channelLimits.all()) {
      const ns = l.namespace?.name;
      this.#homes.set(l, {
        stream: subjects.historyStream(ns),
        head: subjects.historyHead(ns),
        limits: l,
        tag: '',
      });
    }
  }

  /** Creates the streams, or brings existing ones to these limits. */
  async ensureStreams(): Promise<void> {
    for (const home of this.#homes.values()) {
      const config = {
        name: home.stream,
        subjects: [`${home.head}*`],
        max_msgs_per_subject: Math.max(1, home.limits.size),
        max_age: nanos(Math.max(this.#limits.metaTtlMs, home.limits.ttlMs)),
      };
      let info: { created: string };
      try {
        info = await this.#jsm.streams.add(config);
      } catch (err) {
        if (!(err instanceof NatsError) || err.api_error?.err_code !== 10058) throw err;
        info = await this.#jsm.streams.update(config.name, config);
      }
      const n = createHash('sha256').update(`${config.name} ${info.created}`).digest().readUInt32BE(0);
      home.tag = (n % 36 ** 6).toString(36).padStart(6, '0');
    }
  }

  #homeOf(channel: string): Home {
    return this.#homes.get(this.#channelLimits.of(channel))!;
  }

  #subject(home: Home, channel: string): string {
    return home.head + Buffer.from(channel).toString('base64url');
  }

  async #head(home: Home, channel: string): Promise<Head | null> {
    try {
      const m = await this.#jsm.streams.getMessage(home.stream, {
        last_by_subj: this.#subject(home, channel),
      });
      return headOf(m);
    } catch (err) {
      if (err instanceof NatsError && err.api_error?.code === 404) return null;
      throw err;
    }
  }

  /** Appends after `head` (null: the channel has no message); null when another node got there first. */
  async #tryAppend(home: Home, channel: string, head: Head | null, data: string): Promise<Head | null> {
    const h = headers();
    const time = Date.now();
    const next: Head = {
      seq: 0,
      epoch: head?.epoch ?? newEpoch(),
      offset: (head?.offset ?? 0) + 1,
      time,
      born: head === null ? time : head.born,
    };
    h.set(H_EPOCH, next.epoch);
    h.set(H_OFFSET, String(next.offset));
    h.set(H_TIME, String(next.time));
    if (Number.isFinite(next.born)) h.set(H_BORN, String(next.born));
    try {
      const ack = await this.#js.publish(this.#subject(home, channel), data, {
        headers: h,
        expect: { lastSubjectSequence: head?.seq ?? 0 },
      });
      next.seq = ack.seq;
      this.#heads.delete(channel);
      this.#heads.set(channel, next);
      if (this.#heads.size > MAX_HEADS) this.#heads.delete(this.#heads.keys().next().value as string);
      return next;
    } catch (err) {
      if (err instanceof NatsError && err.api_error?.err_code === WRONG_LAST_SEQUENCE) {
        this.#heads.delete(channel);
        return null;
      }
      throw err;
    }
  }

  /** Assigns the channel's next offset and stores the publication (see the class comment). */
  async append(channel: string, data: string): Promise<Publication> {
    const home = this.#homeOf(channel);
    let head = this.#heads.get(channel) ?? (await this.#head(home, channel));
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const next = await this.#tryAppend(home, channel, head, data);
      if (next !== null) return { channel, epoch: next.epoch, offset: next.offset, data, time: next.time };
      head = await this.#head(home, channel);
    }
    throw new Error(`nats engine: could not append to ${channel} after ${MAX_ATTEMPTS} attempts`);
  }

  async read(channel: string, opts: HistoryReadOptions): Promise<HistoryResult> {
    const home = this.#homeOf(channel);
    const head = await this.#head(home, channel);
    if (head === null) {
      const pos = emptyPosition(opts.since, home.tag, Date.now(), this.#limits.metaTtlMs);
      return { epoch: pos.epoch, offset: 0, publications: [] };
    }
    const result: HistoryResult = { epoch: head.epoch, offset: head.offset, publications: [] };
    let since = opts.since;
    if (since !== undefined && continues(since, home.tag, head.born, this.#limits.metaTtlMs)) {
      since = { epoch: head.epoch, offset: since.offset };
      result.from = since;
    }
    const { size, ttlMs } = home.limits;
    const cutoff = Date.now() - ttlMs;
    if (
      since === undefined ||
      since.epoch !== head.epoch ||
      since.offset >= head.offset ||
      opts.limit <= 0 ||
      size === 0 ||
      head.time < cutoff
    ) {
      return result;
    }
    const consumer = await this.#js.consumers.get(home.stream, {
      filterSubjects: this.#subject(home, channel),
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: new Date(cutoff).toISOString(),
    });
    // Offsets are not a JetStream sequence: the stream is read from the age cutoff, skipping
    // what is not after `since`. A subject holds at most `size` messages (one more was an epoch
    // marker of offset 0, which readers wrote before they stopped writing).
    const batch = await consumer.fetch({ max_messages: size + 1, expires: 2000 });
    for await (const m of batch) {
      const pub = publicationOf(channel, m.headers, m.string());
      if (pub === null || pub.epoch !== head.epoch) continue;
      if (pub.offset > since.offset && pub.time >= cutoff && result.publications.length < opts.limit) {
        result.publications.push(pub);
      }
      if (pub.offset >= head.offset || result.publications.length >= opts.limit) {
        batch.stop();
        break;
      }
    }
    await consumer.delete().catch(() => undefined);
    return result;
  }
}

function headOf(m: StoredMsg): Head | null {
  const pub = publicationOf('', m.header, '');
  if (pub === null) return null;
  const born = Number(m.header?.get(H_BORN) || Number.NaN);
  return { seq: m.seq, epoch: pub.epoch, offset: pub.offset, time: pub.time, born };
}

function publicationOf(channel: string, h: MsgHdrs | undefined, data: string): Publication | null {
  if (h === undefined) return null;
  const epoch = h.get(H_EPOCH);
  const offset = Number(h.get(H_OFFSET));
  const time = Number(h.get(H_TIME));
  if (epoch === '' || !Number.isSafeInteger(offset) || !Number.isFinite(time)) return null;
  return { channel, epoch, offset, data, time };
}
