import { createHash, randomBytes } from 'node:crypto';

/**
 * Dashboard logins (issue 13 "dashboard sessions"). A login gets a random session id, unique to
 * it; the server keeps the session until it expires or its owner logs out, and a cookie whose
 * session is not kept is refused. With workers, one store in the primary serves them all over
 * IPC (RemoteSessions, serveSessions), so a login made on one worker is valid on the others and
 * a logout ends it on every one before its answer goes out. Sessions live in memory: a restart
 * of the server (the primary) logs everyone out.
 */
export interface Sessions {
  /** A new session's id. Rejects when it cannot be made (the primary does not answer). */
  create(): Promise<string>;
  /** Whether `id` is a session that has neither expired nor been ended. False on any failure. */
  valid(id: string): Promise<boolean>;
  /** Ends the session `id` (nothing when there is none). */
  end(id: string): Promise<void>;
}

export interface SessionStoreOptions {
  ttlMs: number;
  /** Sessions kept at once; past it the oldest is ended. */
  max?: number;
  now?: () => number;
}

/** Logins kept at once by default: only holders of the key make them, this bounds a script that loops. */
const MAX_SESSIONS = 1000;

/**
 * The sessions themselves, synchronous, in one process. Ids are 256 random bits; the store keeps
 * their SHA-256 only, so neither a lookup's timing nor a heap dump gives out a usable cookie.
 */
export class SessionStore {
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;
  /** Digest of the id -> expiry (ms); insertion order is creation order. */
  readonly #expiry = new Map<string, number>();

  constructor(opts: SessionStoreOptions) {
    this.#ttlMs = opts.ttlMs;
    this.#max = opts.max ?? MAX_SESSIONS;
    this.#now = opts.now ?? Date.now;
  }

  create(): string {
    const now = this.#now();
    for (const [digest, expiry] of this.#expiry) {
      if (expiry > now && this.#expiry.size < this.#max) break;
      this.#expiry.delete(digest);
    }
    const id = randomBytes(32).toString('base64url');
    this.#expiry.set(digestOf(id), now + this.#ttlMs);
    return id;
  }

  valid(id: string): boolean {
    const digest = digestOf(id);
    const expiry = this.#expiry.get(digest);
    if (expiry === undefined) return false;
    if (expiry > this.#now()) return true;
    this.#expiry.delete(digest);
    return false;
  }

  end(id: string): void {
    this.#expiry.delete(digestOf(id));
  }

  get size(): number {
    return this.#expiry.size;
  }
}

function digestOf(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

/** Sessions of a server that is one process. */
export class LocalSessions implements Sessions {
  readonly store: SessionStore;

  constructor(store: SessionStore) {
    this.store = store;
  }

  create(): Promise<string> {
    return Promise.resolve(this.store.create());
  }

  valid(id: string): Promise<boolean> {
    return Promise.resolve(this.store.valid(id));
  }

  end(id: string): Promise<void> {
    this.store.end(id);
    return Promise.resolve();
  }
}

/**
 * Messages between a worker and the primary's store, over node:cluster IPC next to the cluster
 * engine's (they carry its protocol version and the sender's id; the engine's handlers ignore
 * their types). One request, one answer with the same `id`.
 */
export type SessionRequest = {
  v: number;
  from: number;
  t: 'session';
  id: number;
  op: 'create' | 'valid' | 'end';
  session: string;
};
export type SessionAnswer = { v: number; t: 'session-res'; id: number; ok: boolean; session: string };

/** One end of an IPC pipe (the shape of cluster/protocol.ts's Port). */
export interface SessionPort<In, Out> {
  send(msg: Out): void;
  onMessage(handler: (msg: In) => void): void;
  connected(): boolean;
}

/** The primary waits for nothing, so an answer that does not come in this time means it is gone. */
const REQUEST_TIMEOUT_MS = 5000;

/** A worker's sessions: every call is one request to the primary's store (serveSessions). */
export class RemoteSessions implements Sessions {
  readonly #port: SessionPort<unknown, SessionRequest>;
  readonly #from: number;
  readonly #version: number;
  readonly #pending = new Map<number, { done: (a: SessionAnswer | null) => void; timer: NodeJS.Timeout }>();
  #next = 1;

  constructor(port: SessionPort<unknown, SessionRequest>, workerId: number, version: number) {
    this.#port = port;
    this.#from = workerId;
    this.#version = version;
    port.onMessage((m) => {
      if (!isSessionAnswer(m, version)) return;
      const p = this.#pending.get(m.id);
      if (p === undefined) return;
      this.#pending.delete(m.id);
      clearTimeout(p.timer);
      p.done(m);
    });
  }

  #ask(op: SessionRequest['op'], session: string): Promise<SessionAnswer | null> {
    if (!this.#port.connected()) return Promise.resolve(null);
    const id = this.#next++;
    return new Promise((done) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        done(null);
      }, REQUEST_TIMEOUT_MS);
      timer.unref();
      this.#pending.set(id, { done, timer });
      try {
        this.#port.send({ v: this.#version, from: this.#from, t: 'session', id, op, session });
      } catch {
        // The channel closed between connected() and send(): no answer will come.
        clearTimeout(timer);
        this.#pending.delete(id);
        done(null);
      }
    });
  }

  async create(): Promise<string> {
    const a = await this.#ask('create', '');
    if (a === null || !a.ok) throw new Error('the primary did not make a session');
    return a.session;
  }

  async valid(id: string): Promise<boolean> {
    return (await this.#ask('valid', id))?.ok === true;
  }

  async end(id: string): Promise<void> {
    await this.#ask('end', id);
  }
}

/** Answers one worker's session requests from the primary's store. */
export function serveSessions(
  store: SessionStore,
  port: SessionPort<unknown, SessionAnswer>,
  version: number,
): void {
  port.onMessage((m) => {
    if (!isSessionRequest(m, version)) return;
    let ok = true;
    let session = '';
    if (m.op === 'create') session = store.create();
    else if (m.op === 'valid') ok = store.valid(m.session);
    else store.end(m.session);
    if (port.connected()) port.send({ v: version, t: 'session-res', id: m.id, ok, session });
  });
}

function isSessionRequest(m: unknown, v: number): m is SessionRequest {
  const r = m as Partial<SessionRequest> | null;
  return (
    typeof m === 'object' &&
    r !== null &&
    r.v === v &&
    r.t === 'session' &&
    typeof r.id === 'number' &&
    typeof r.session === 'string' &&
    (r.op === 'create' || r.op === 'valid' || r.op === 'end')
  );
}

function isSessionAnswer(m: unknown, v: number): m is SessionAnswer {
  const a = m as Partial<SessionAnswer> | null;
  return (
    typeof m === 'object' && a !== null && a.v === v && a.t === 'session-res' && typeof a.id === 'number'
  );
}
