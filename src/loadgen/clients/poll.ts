import { fill } from '../options.js';
import { detach, type Pool } from '../pool.js';
import { RawHttpClient } from './raw.js';

/** Stands for the cursor while a target is parsed once (letters only: URL parsing keeps it as is). */
const CURSOR_MARK = 'HFBCURSORMARK';
/** Per channel index: the request target before and after the cursor (null: no cursor in it). */
const targets = new Map<number, { template: string; before: string; after: string | null; host: string }>();

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

  /**
   * The target with this client's cursor. The template is filled and parsed once per channel
   * (with a marker where the cursor goes) and only the cursor is put in per poll: a `new URL`
   * and a template fill per poll were a large part of the bench's busy time under long-polls
   * (docs/BENCHMARKS.md, "Long-poll, 15,000 clients, one worker", commit 335ea49).
   */
  override requestTarget(): { path: string; host: string } {
    let t = targets.get(this.channel);
    if (t === undefined || t.template !== this.pool.plan.pollUrl) {
      const saved = this.cursor;
      this.cursor = CURSOR_MARK;
      const url = this.target();
      this.cursor = saved;
      const path = url.pathname + url.search;
      const at = path.indexOf(CURSOR_MARK);
      t = {
        template: this.pool.plan.pollUrl,
        before: at < 0 ? path : path.slice(0, at),
        after: at < 0 ? null : path.slice(at + CURSOR_MARK.length),
        host: url.host,
      };
      targets.set(this.channel, t);
    }
    const path = t.after === null ? t.before : t.before + encodeURIComponent(this.cursor) + t.after;
    return { path, host: t.host };
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
