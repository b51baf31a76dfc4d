import type { Publication } from '../contract/stream.js';
import type { PresenceEvent, PresenceMember } from '../engines/types.js';

/**
 * Wire encodings of one publication, each built at most once and shared by every local
 * subscriber (encode once, write many). `data` is already JSON text, so nothing is re-serialized.
 *
 *  - ws:    `{"op":"message","channel":"news","offset":42,"data":...}` (a text frame's payload)
 *  - json:  `{"channel":"news","offset":42,"data":...}` (long-poll fragment, SSE data line)
 *  - sse:   `data: <json>\n\n` without an id (multi-channel streams add their own id line first)
 *  - sseId: `id: <epoch>-<offset>\ndata: <json>\n\n` (single-channel streams: the id is shared)
 */
export class Encoded {
  readonly pub: Publication;
  #channelJson: string | undefined = undefined;
  #ws: Buffer | undefined = undefined;
  #json: string | undefined = undefined;
  #jsonBytes = -1;
  #sse: Buffer | undefined = undefined;
  #sseId: Buffer | undefined = undefined;

  constructor(pub: Publication) {
    this.pub = pub;
  }

  private channelJson(): string {
    if (this.#channelJson === undefined) this.#channelJson = JSON.stringify(this.pub.channel);
    return this.#channelJson;
  }

  get ws(): Buffer {
    if (this.#ws === undefined) {
      const p = this.pub;
      this.#ws = Buffer.from(
        '{"op":"message","channel":' +
          this.channelJson() +
          ',"offset":' +
          p.offset +
          ',"data":' +
          p.data +
          '}',
      );
    }
    return this.#ws;
  }

  get json(): string {
    if (this.#json === undefined) {
      const p = this.pub;
      this.#json = '{"channel":' + this.channelJson() + ',"offset":' + p.offset + ',"data":' + p.data + '}';
    }
    return this.#json;
  }

  /** UTF-8 length of `json` (long-poll counts what each session holds). */
  get jsonBytes(): number {
    if (this.#jsonBytes < 0) this.#jsonBytes = Buffer.byteLength(this.json);
    return this.#jsonBytes;
  }

  get sse(): Buffer {
    if (this.#sse === undefined) this.#sse = Buffer.from('data: ' + this.json + '\n\n');
    return this.#sse;
  }

  get sseId(): Buffer {
    if (this.#sseId === undefined) {
      this.#sseId = Buffer.from(
        'id: ' + this.pub.epoch + '-' + this.pub.offset + '\ndata: ' + this.json + '\n\n',
      );
    }
    return this.#sseId;
  }
}

/** An SSE event with a name, used for control events (subscribed, reset, disconnect). */
export function sseEvent(event: string, data: unknown, id?: string): Buffer {
  return Buffer.from(
    'event: ' +
      event +
      '\n' +
      (id === undefined ? '' : 'id: ' + id + '\n') +
      'data: ' +
      JSON.stringify(data) +
      '\n\n',
  );
}

/**
 * Wire encodings of one presence event (a join or leave push), built at most once and shared by
 * every local follower of the channel, like a publication's (Encoded):
 *
 *  - ws:  `{"op":"join","channel":"room","client":"…","user":"42","info":{…}}` (info null when none)
 *  - sse: `event: join\ndata: <the same JSON>\n\n` (no id: the stream's cursor does not move)
 */
export class EncodedPresence {
  readonly ev: PresenceEvent;
  #ws: Buffer | undefined = undefined;
  #sse: Buffer | undefined = undefined;

  constructor(ev: PresenceEvent) {
    this.ev = ev;
  }

  #json(): string {
    const { op, channel, member } = this.ev;
    return JSON.stringify({ op, channel, ...presenceMember(member) });
  }

  get ws(): Buffer {
    if (this.#ws === undefined) this.#ws = Buffer.from(this.#json());
    return this.#ws;
  }

  get sse(): Buffer {
    if (this.#sse === undefined) {
      this.#sse = Buffer.from('event: ' + this.ev.op + '\ndata: ' + this.#json() + '\n\n');
    }
    return this.#sse;
  }
}

/**
 * The presence events of one channel that arrived in one turn of the event loop, delivered
 * together: each follower gets them in one write (WebSocket: one text frame per event, in one
 * buffer; SSE: the named events back to back). A join storm (every member of a big channel
 * connecting at once) otherwise cost one write, so one syscall, per event per follower.
 */
export class PresenceBatch {
  readonly channel: string;
  readonly events: EncodedPresence[] = [];
  #sse: Buffer | undefined = undefined;

  constructor(channel: string) {
    this.channel = channel;
  }

  get sse(): Buffer {
    if (this.#sse === undefined) this.#sse = Buffer.concat(this.events.map((e) => e.sse));
    return this.#sse;
  }
}

/** A member as clients see it (pushes, the presence reply, the HTTP API): info is null when none. */
export function presenceMember(m: PresenceMember): { client: string; user: string; info: unknown } {
  return { client: m.client, user: m.user, info: m.info ?? null };
}
