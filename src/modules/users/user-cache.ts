import type { UserView } from './user-view.js';

/**
 * In-process cache of user views for the authenticated hot path (GET
 * /users/me), bounded and short-lived. Writers publish the id on the bus so
 * every replica drops its copy at once; the TTL covers a lost message.
 */
export class UserCache {
  private readonly entries = new Map<number, { view: UserView; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(id: number): UserView | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return entry.view;
  }

  set(id: number, view: UserView): void {
    this.entries.delete(id);
    if (this.entries.size >= this.maxEntries) {
      // Map iterates in insertion order: the first key is the oldest entry.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(id, { view, expiresAt: this.now() + this.ttlMs });
  }

  delete(id: number): void {
    this.entries.delete(id);
  }
}
