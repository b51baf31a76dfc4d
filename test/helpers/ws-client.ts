import WebSocket from 'ws';

export type Msg = Record<string, unknown>;

/** A `ws` client that queues parsed frames and lets a test await the next one matching a filter. */
export class TestWs {
  readonly ws: WebSocket;
  readonly received: Msg[] = [];
  #waiters: { match: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  closeCode: number | null = null;
  readonly closed: Promise<number>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as Msg;
      this.received.push(m);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.match(m)) return true;
        w.resolve(m);
        return false;
      });
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
      }),
    );
  }

  static connect(url: string, opts: WebSocket.ClientOptions = {}): Promise<TestWs> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, opts);
      const client = new TestWs(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** The first frame (already received or to come) matching `match`, consumed from the search. */
  next(match: (m: Msg) => boolean, timeoutMs = 5000): Promise<Msg> {
    const found = this.received.find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m);
        },
      });
    });
  }

  async request(msg: Msg & { id: number }): Promise<Msg> {
    this.send(msg);
    return this.next((m) => m['id'] === msg.id);
  }

  messages(channel?: string): Msg[] {
    return this.received.filter(
      (m) => m['op'] === 'message' && (channel === undefined || m['channel'] === channel),
    );
  }

  async waitForMessages(count: number, channel?: string, timeoutMs = 10_000): Promise<Msg[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages(channel).length < count) {
      if (Date.now() > deadline) throw new Error(`got ${this.messages(channel).length} of ${count} messages`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.messages(channel);
  }

  close(): void {
    this.ws.close();
  }
}
