import type { L2Driver } from './l2-driver.js';

interface Stored {
  value: string;
  expiresAt: number;
  tags?: readonly string[];
}

/**
 * L2 for the embedded mode (no Redis, one replica): the same contract as
 * RedisL2, in process, so the cache behaves identically in both modes.
 * Bounded: the oldest write goes first when full.
 */
export class MemoryL2 implements L2Driver {
  private readonly entries = new Map<string, Stored>();
  private readonly tags = new Map<string, Set<string>>();
  private readonly locks = new Map<string, Stored>();

  constructor(private readonly maxEntries = 100_000) {}

  get(key: string): Promise<string | null> {
    return Promise.resolve(this.live(this.entries, key)?.value ?? null);
  }

  set(key: string, value: string, ttlMs: number, tags: readonly string[]): Promise<void> {
    this.remove(key);
    this.entries.set(key, { value, expiresAt: Date.now() + ttlMs, tags });
    for (const tag of tags) {
      let keys = this.tags.get(tag);
      if (!keys) this.tags.set(tag, (keys = new Set()));
      keys.add(key);
    }
    while (this.entries.size > this.maxEntries) {
      this.remove(this.entries.keys().next().value as string);
    }
    return Promise.resolve();
  }

  delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.remove(key);
    return Promise.resolve();
  }

  invalidateTags(tags: readonly string[]): Promise<void> {
    for (const tag of tags) {
      for (const key of this.tags.get(tag) ?? []) this.entries.delete(key);
      this.tags.delete(tag);
    }
    return Promise.resolve();
  }

  tryLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    if (this.live(this.locks, key)) return Promise.resolve(false);
    this.locks.set(key, { value: token, expiresAt: Date.now() + ttlMs });
    return Promise.resolve(true);
  }

  unlock(key: string, token: string): Promise<void> {
    if (this.locks.get(key)?.value === token) this.locks.delete(key);
    return Promise.resolve();
  }

  private live(map: Map<string, Stored>, key: string): Stored | undefined {
    const stored = map.get(key);
    if (stored && stored.expiresAt <= Date.now()) {
      if (map === this.entries) this.remove(key);
      else map.delete(key);
      return undefined;
    }
    return stored;
  }

  private remove(key: string): void {
    const stored = this.entries.get(key);
    if (!stored) return;
    this.entries.delete(key);
    for (const tag of stored.tags ?? []) {
      const keys = this.tags.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.tags.delete(tag);
    }
  }
}
