import { HttpConnection } from './http-connection.js';
import { channelUrl, lost, refusal, requestHeaders } from './http-refusal.js';
import { parseCursor } from './resume.js';
import type { Ended } from './transport.js';

interface PollAnswer {
  cursor?: unknown;
  messages?: unknown;
  reset?: unknown;
}

/**
 * Long-polling `/poll` (README "Long-poll") with `fetch`: one request at a time, each with the
 * cursor of every channel from the client's positions (a channel without one starts from now:
 * the server answers it at once with a reset that gives its position). A subscribe or
 * unsubscribe cuts the held poll and polls again with the new channel list.
 */
export class PollConnection extends HttpConnection {
  readonly name = 'poll';

  protected async run(poll: number, channels: readonly string[], signal: AbortSignal): Promise<void> {
    const url = channelUrl(this.url, channels, { cursor: this.link.cursor(channels) });
    let end: Ended;
    try {
      const res = await this.fetch(url, {
        headers: requestHeaders(this.link.token(), 'application/json'),
        signal,
      });
      if (poll !== this.generation) return;
      if (res.status === 200) {
        const answer = (await res.json()) as PollAnswer;
        if (poll !== this.generation || this.ended) return;
        this.markOpened();
        this.#deliver(channels, answer);
        if (poll === this.generation) this.start();
        return;
      }
      end = await refusal(res, this.opened);
    } catch (err) {
      end = lost(this.opened, err);
    }
    this.finish(poll, end);
  }

  #deliver(channels: readonly string[], answer: PollAnswer): void {
    const ev = this.events;
    if (Array.isArray(answer.reset)) {
      for (const r of answer.reset as Record<string, unknown>[]) {
        if (typeof r?.['channel'] !== 'string') continue;
        ev.subscribed(r['channel'], String(r['epoch'] ?? ''), Number(r['offset'] ?? 0), false);
      }
    }
    if (Array.isArray(answer.messages)) {
      for (const m of answer.messages as Record<string, unknown>[]) {
        if (typeof m?.['channel'] === 'string' && typeof m['offset'] === 'number') {
          ev.message(m['channel'], m['offset'], m['data']);
        }
      }
    }
    const positions = typeof answer.cursor === 'string' ? parseCursor(answer.cursor, channels.length) : null;
    if (positions === null) return;
    for (let i = 0; i < channels.length; i++) ev.position(channels[i]!, positions[i]!);
  }
}
