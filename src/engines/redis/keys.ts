/**
 * Redis names for one channel, under a prefix (`enginePrefix`). The channel sits in a hash tag
 * so that both keys of a channel share a slot, as publish.lua needs on Redis Cluster.
 */
export class RedisKeys {
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** Hash: e (epoch), o (newest offset), b (when the epoch was born, ms); made by a publication. */
  meta(channel: string): string {
    return `${this.#prefix}:{${channel}}:m`;
  }

  /** Stream of the kept publications, entry id `<offset>-0`. */
  stream(channel: string): string {
    return `${this.#prefix}:{${channel}}:s`;
  }

  /** String: this Redis's tag for empty positions (engines/empty.ts); one key, not per channel. */
  tag(): string {
    return `${this.#prefix}:tag`;
  }

  /** Pub/sub channel carrying the channel's publications. */
  pubsub(channel: string): string {
    return `${this.#prefix}:p:${channel}`;
  }

  /** Pub/sub channel of the control bus (engines/control.ts): no Holdfast channel maps to it. */
  control(): string {
    return `${this.#prefix}:control`;
  }

  /** The Holdfast channel of a pub/sub channel name, or null when it is not ours. */
  channelOf(pubsubName: string): string | null {
    const head = `${this.#prefix}:p:`;
    return pubsubName.startsWith(head) ? pubsubName.slice(head.length) : null;
  }
}
