import { fill } from '../options.js';
import { detach, type Pool } from '../pool.js';
import { RawHttpClient } from './raw.js';

/**
 * A long-poll client on a raw keep-alive socket: one request at a time; each answer's
 * `cursor` goes into the next request, so nothing published between two polls is missed.
 * The first answer confirms both subscriptions (everything published after it is covered by
 * the cursor). A failed poll reconnects with back-off and resumes from the same cursor.
 */
export class PollClient extends RawHttpClient {
  cursor = '';
  status = 0;
  body = '';

  constructor(pool: Pool, local: number, channel: number, source: string) {
    super(pool, local, channel, source);
  }

  target(): URL {
    const plan = this.pool.plan;
    return new URL(
      fill(plan.pollUrl, {
        channel: encodeURIComponent(plan.channelNames[this.channel]!),
        broadcast: encodeURIComponent(plan.channelNames[plan.channels]!),
        cursor: encodeURIComponent(this.cursor),
      }),
    );
  }

  extraHeaders(): string {
    return 'Accept: application/json\r\n';
  }

  onConnected(): void {
    // Polls are held up to the server's time-out (25 s in Holdfast).
    this.socket?.setTimeout(90_000);
    this.opened();
    this.request();
  }

  onHead(status: number): void {
    this.status = status;
    this.body = '';
  }

  onBody(text: string): void {
    this.body += text;
  }

  onEnd(): void {
    const body = this.body;
    this.body = '';
    if (this.status !== 200) {
      this.pool.errors++;
      this.fail();
      return;
    }
    this.scan(body);
    const at = body.indexOf('"cursor":"');
    if (at !== -1) {
      const end = body.indexOf('"', at + 10);
      if (end !== -1) this.cursor = detach(body.slice(at + 10, end));
    }
    if (body.includes('"recovered":false')) this.pool.recoveryFailures++;
    this.confirmed(this.local * 2);
    this.confirmed(this.local * 2 + 1);
    if (!this.pool.running) return;
    if (this.reader.closeAfter) {
      this.close();
      this.lost(false);
      return;
    }
    this.request();
  }
}
