import type { ConnectionFactory } from '../../src/client/options.js';
import type { Connection, Link, TransportEvents, TransportName } from '../../src/client/transport.js';

/** A connection the test drives: it records what the client asks and reports what the test says. */
export class FakeConnection implements Connection {
  readonly name: TransportName;
  readonly link: Link;
  readonly events: TransportEvents;
  readonly followed: string[] = [];
  readonly left: string[] = [];
  readonly calls: Record<string, unknown>[] = [];
  closed = false;

  constructor(name: TransportName, link: Link, events: TransportEvents) {
    this.name = name;
    this.link = link;
    this.events = events;
  }

  follow(channel: string): void {
    this.followed.push(channel);
  }

  leave(channel: string): void {
    this.left.push(channel);
  }

  call(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.calls.push(frame);
    return Promise.resolve({ ok: true, epoch: 'e', offset: 1 });
  }

  close(): void {
    this.closed = true;
  }

  /** The server closed (or the connection was lost) after opening. */
  drop(code: number | null, reconnect = true): void {
    this.events.ended({ opened: true, code, reason: 'test', reconnect, error: null, retryAfterMs: null });
  }

  /** The connection never opened. */
  refuse(): void {
    this.events.ended({
      opened: false,
      code: null,
      reason: 'refused',
      reconnect: true,
      error: null,
      retryAfterMs: null,
    });
  }
}

/** Connections in the order the client made them; `next()` waits for the following one. */
export class FakeServer {
  readonly made: FakeConnection[] = [];
  #waiters: ((c: FakeConnection) => void)[] = [];
  #seen = 0;

  readonly factory: ConnectionFactory = (name, link, events) => {
    const c = new FakeConnection(name, link, events);
    this.made.push(c);
    for (const w of this.#waiters.splice(0)) w(c);
    return c;
  };

  /** The next connection the client makes (one not returned by next() before). */
  async next(): Promise<FakeConnection> {
    const i = this.#seen++;
    const ready = this.made[i];
    if (ready !== undefined) return ready;
    while (this.made.length <= i) await new Promise<FakeConnection>((resolve) => this.#waiters.push(resolve));
    return this.made[i]!;
  }
}
