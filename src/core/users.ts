/**
 * Local sessions by user id (`session.identity.user`), for the server API's commands on every
 * connection of a user (Node's control handling). O(1) add and delete; a user without sessions
 * has no entry. Anonymous sessions are never in it, so they cost nothing here.
 */
export class UserIndex<S> {
  readonly #byUser = new Map<string, Set<S>>();

  add(user: string, session: S): void {
    let set = this.#byUser.get(user);
    if (set === undefined) {
      set = new Set();
      this.#byUser.set(user, set);
    }
    set.add(session);
  }

  delete(user: string, session: S): void {
    const set = this.#byUser.get(user);
    if (set === undefined) return;
    set.delete(session);
    if (set.size === 0) this.#byUser.delete(user);
  }

  /** The user's sessions, as a snapshot (safe to close them while iterating). */
  of(user: string): S[] {
    const set = this.#byUser.get(user);
    return set === undefined ? [] : [...set];
  }

  /** Users with at least one session. */
  get size(): number {
    return this.#byUser.size;
  }
}
