import type { Publication } from '../contract/stream.js';

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
