import type { Disconnect } from '../../src/contract/codes.js';
import type { Encoded, PresenceBatch } from '../../src/core/encode.js';
import { Session, type Transport } from '../../src/core/session.js';

/** A transport that records bytes; `queued` can be set to simulate a socket that stopped draining. */
export class FakeTransport implements Transport {
  readonly writes: Buffer[] = [];
  queued = 0;
  closedWith: Disconnect | null = null;

  write(bytes: Buffer): void {
    this.writes.push(bytes);
  }

  queuedBytes(): number {
    return this.queued;
  }

  close(reason: Disconnect): void {
    this.closedWith = reason;
  }
}

/** A session speaking the WebSocket wire format into a FakeTransport. */
export class FakeSession extends Session {
  readonly fake: FakeTransport;

  constructor(maxQueuedBytes = 1 << 20) {
    const t = new FakeTransport();
    super(t, maxQueuedBytes);
    this.fake = t;
  }

  protected emit(enc: Encoded): void {
    this.transport.write(enc.ws);
  }

  /** Offsets of the pushes received, per channel. */
  offsets(channel: string): number[] {
    return this.fake.writes
      .map((b) => JSON.parse(b.toString()) as { channel: string; offset: number })
      .filter((m) => m.channel === channel)
      .map((m) => m.offset);
  }
}

/** A FakeSession that also writes presence pushes (as the WebSocket session does). */
export class FakePresenceSession extends FakeSession {
  protected override emitPresence(batch: PresenceBatch): void {
    for (const e of batch.events) this.transport.write(e.ws);
  }

  /** The presence pushes received, as parsed JSON. */
  pushes(): { op: string; channel: string; client: string; user: string; info: unknown }[] {
    return this.fake.writes
      .map(
        (b) =>
          JSON.parse(b.toString()) as {
            op: string;
            channel: string;
            client: string;
            user: string;
            info: unknown;
          },
      )
      .filter((m) => m.op === 'join' || m.op === 'leave');
  }
}
