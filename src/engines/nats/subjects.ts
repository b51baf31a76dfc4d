/**
 * NATS names for channels under a prefix (`enginePrefix`). A channel name may hold `.`, which
 * NATS reads as a token separator, so it goes into subjects as one base64url token.
 */
export class NatsSubjects {
  readonly #prefix: string;
  /** The JetStream stream holding every channel's history. */
  readonly stream: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
    this.stream = `${prefix}-history`;
  }

  /** Core NATS subject carrying a channel's publications to subscribed servers. */
  pubsub(channel: string): string {
    return `${this.#prefix}.p.${Buffer.from(channel).toString('base64url')}`;
  }

  /** JetStream subject of a channel's history. */
  history(channel: string): string {
    return `${this.#prefix}.h.${Buffer.from(channel).toString('base64url')}`;
  }

  /** Core NATS subject of the control bus (engines/control.ts): no channel's subject is this one. */
  control(): string {
    return `${this.#prefix}.control`;
  }

  /** Subjects the history stream captures. */
  historyWildcard(): string {
    return `${this.#prefix}.h.*`;
  }

  /** The channel of a pub/sub subject, or null when it is not ours. */
  channelOf(subject: string): string | null {
    const head = `${this.#prefix}.p.`;
    return subject.startsWith(head) ? Buffer.from(subject.slice(head.length), 'base64url').toString() : null;
  }
}
