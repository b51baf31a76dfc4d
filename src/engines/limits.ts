import type { Config } from '../config/config.js';
import type { Namespace, Namespaces } from '../config/namespaces.js';

/** How much history one channel keeps. */
export interface ChannelLimits {
  /** Publications kept (0: none; offsets still go on and publications are still delivered). */
  readonly size: number;
  /** Milliseconds a publication is kept. */
  readonly ttlMs: number;
  /** The namespace these are of; undefined for the server's defaults (see HistoryLimits). */
  readonly namespace?: Namespace;
}

/** What every history engine is built with. */
export interface HistoryLimits {
  /**
   * The server's defaults (historySize, historyTtl): the limits of every channel without
   * namespaces, and of a channel in no configured namespace (which the core refuses anyway).
   */
  size: number;
  ttlMs: number;
  /** Milliseconds a channel's epoch and offset are kept after its last publication. */
  metaTtlMs: number;
  /**
   * The configured namespaces (config.namespaceTable): a channel keeps what its namespace's
   * historySize and historyTtl say (parseNamespaces fills them from the defaults).
   */
  namespaces?: Namespaces | null;
}

/**
 * Every channel's limits, built once per engine from its HistoryLimits. Without namespaces every
 * channel gets one constant object, so the publish path costs what it did before namespaces;
 * with them, a namespace lookup (one indexOf, one Map get) and an object made once per namespace.
 */
export class ChannelLimitsTable {
  /** The server's defaults. */
  readonly defaults: ChannelLimits;
  readonly #namespaces: Namespaces | null;
  readonly #byNamespace = new Map<Namespace, ChannelLimits>();

  constructor(h: HistoryLimits) {
    this.defaults = { size: h.size, ttlMs: h.ttlMs };
    this.#namespaces = h.namespaces ?? null;
    for (const ns of this.#namespaces?.list() ?? []) {
      this.#byNamespace.set(ns, { size: ns.historySize, ttlMs: ns.historyTtl * 1000, namespace: ns });
    }
  }

  /** The limits of `channel`: the same object for every channel of one namespace. */
  of(channel: string): ChannelLimits {
    if (this.#namespaces === null) return this.defaults;
    const ns = this.#namespaces.of(channel);
    return ns === undefined ? this.defaults : (this.#byNamespace.get(ns) ?? this.defaults);
  }

  /** Every distinct limits object `of` gives: the defaults', then each namespace's. */
  all(): ChannelLimits[] {
    return [this.defaults, ...this.#byNamespace.values()];
  }
}

/** The history limits the configuration asks for (every engine, and the cluster primary). */
export function historyLimits(config: Config): HistoryLimits {
  return {
    size: config.historySize,
    ttlMs: config.historyTtl * 1000,
    metaTtlMs: config.historyMetaTtl * 1000,
    namespaces: config.namespaceTable,
  };
}
