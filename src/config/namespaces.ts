/**
 * Namespaces (DESIGN.md "Public contract v2"): a channel `ns:rest` belongs to namespace `ns`, a
 * channel without `:` to the default one (`""`). The `namespaces` option names every namespace
 * that exists, each with its rules; without it there is none and every channel is public (v1).
 * Pure: parsed and validated at boot, looked up per subscription.
 */
export interface Namespace {
  readonly name: string;
  /** `public`: any connection the `anonymous` rule lets in; `token`: only those granted the channel. */
  readonly access: 'public' | 'token';
  /** Connections without credentials may subscribe (only in `public` namespaces). */
  readonly anonymous: boolean;
  /** Subscribers are members of the channel's presence. */
  readonly presence: boolean;
  /** Followers get `join` and `leave` pushes (needs presence). */
  readonly joinLeave: boolean;
  /** WebSocket connections that may follow a channel may publish to it. */
  readonly clientPublish: boolean;
  /** Publications kept per channel, and for how many seconds (the server's defaults when unset). */
  readonly historySize: number;
  readonly historyTtl: number;
}

export class NamespaceError extends Error {}

const NAME = /^[A-Za-z0-9_\-=@.;/]{0,64}$/;
const KEYS = ['access', 'anonymous', 'presence', 'joinLeave', 'clientPublish', 'historySize', 'historyTtl'];

/** The configured namespaces by name. */
export class Namespaces {
  readonly #byName: Map<string, Namespace>;

  constructor(list: readonly Namespace[]) {
    this.#byName = new Map(list.map((n) => [n.name, n]));
  }

  /** The namespace `channel` belongs to, or undefined when it is not configured (unknown_namespace). */
  of(channel: string): Namespace | undefined {
    const colon = channel.indexOf(':');
    return this.#byName.get(colon < 0 ? '' : channel.slice(0, colon));
  }

  get(name: string): Namespace | undefined {
    return this.#byName.get(name);
  }

  list(): Namespace[] {
    return [...this.#byName.values()];
  }
}

/**
 * Reads the `namespaces` option (null: not set). `defaults` give historySize and historyTtl
 * where a namespace leaves them out. Throws NamespaceError saying what to change.
 */
export function parseNamespaces(
  raw: unknown,
  defaults: { historySize: number; historyTtl: number },
): Namespaces | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new NamespaceError(
      'namespaces: expected an object of namespaces by name, e.g. {"": {"access": "public"}}',
    );
  }
  const list: Namespace[] = [];
  for (const [name, spec] of Object.entries(raw as Record<string, unknown>)) {
    const where = `namespaces[${JSON.stringify(name)}]`;
    if (!NAME.test(name)) {
      throw new NamespaceError(
        `${where}: a namespace name is up to 64 channel characters without ":" or "#"`,
      );
    }
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
      throw new NamespaceError(`${where}: expected an object`);
    }
    const s = spec as Record<string, unknown>;
    for (const k of Object.keys(s)) {
      if (!KEYS.includes(k))
        throw new NamespaceError(`${where}: unknown rule "${k}" (known: ${KEYS.join(', ')})`);
    }
    const access = s['access'] ?? 'public';
    if (access !== 'public' && access !== 'token') {
      throw new NamespaceError(
        `${where}.access: expected "public" or "token", got ${JSON.stringify(access)}`,
      );
    }
    const bool = (k: string, dflt: boolean): boolean => {
      const v = s[k] ?? dflt;
      if (typeof v !== 'boolean') throw new NamespaceError(`${where}.${k}: expected true or false`);
      return v;
    };
    const int = (k: string, dflt: number, min: number, max: number): number => {
      const v = s[k] ?? dflt;
      if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) {
        throw new NamespaceError(`${where}.${k}: expected a whole number from ${min} to ${max}`);
      }
      return v as number;
    };
    const anonymous = bool('anonymous', access === 'public');
    if (anonymous && access === 'token') {
      throw new NamespaceError(
        `${where}: anonymous connections hold no token, so "access": "token" cannot be anonymous`,
      );
    }
    const presence = bool('presence', false);
    const joinLeave = bool('joinLeave', false);
    if (joinLeave && !presence) throw new NamespaceError(`${where}: joinLeave needs "presence": true`);
    list.push({
      name,
      access,
      anonymous,
      presence,
      joinLeave,
      clientPublish: bool('clientPublish', false),
      historySize: int('historySize', defaults.historySize, 0, 1_000_000),
      historyTtl: int('historyTtl', defaults.historyTtl, 1, 30 * 86400),
    });
  }
  return new Namespaces(list);
}
