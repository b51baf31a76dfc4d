/**
 * NATS names for channels under a prefix (`enginePrefix`). A channel name may hold `.`, which
 * NATS reads as a token separator, so it goes into subjects as one base64url token.
 */
export class NatsSubjects {
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** Core NATS subject carrying a channel's publications to subscribed servers. */
  pubsub(channel: string): string {
    return `${this.#prefix}.p.${Buffer.from(channel).toString('base64url')}`;
  }

  /**
   * The JetStream stream holding the history of a namespace's channels; without a namespace (no
   * namespaces configured, or a channel in none), the server defaults' stream (see history.ts).
   */
  historyStream(namespace: string | undefined): string {
    return namespace === undefined
      ? `${this.#prefix}-history`
      : `${this.#prefix}-history-n${Buffer.from(namespace).toString('base64url')}`;
  }

  /** Core NATS subject of the control bus (engines/control.ts): no channel's subject is this one. */
  control(): string {
    return `${this.#prefix}.control`;
  }

  /** The beginning of the history subjects of historyStream(namespace); the channel's token follows. */
  historyHead(namespace: string | undefined): string {
    return namespace === undefined
      ? `${this.#prefix}.h.`
      : `${this.#prefix}.h.n${Buffer.from(namespace).toString('base64url')}.`;
  }

  /** The channel of a pub/sub subject, or null when it is not ours. */
  channelOf(subject: string): string | null {
    const head = `${this.#prefix}.p.`;
    return subject.startsWith(head) ? Buffer.from(subject.slice(head.length), 'base64url').toString() : null;
  }
}
