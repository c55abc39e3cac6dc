import { LRUCache } from 'lru-cache';
import type { L2Driver } from './l2-driver.js';

interface Stored {
  value: string;
  expiresAt: number;
  tags?: readonly string[];
}

/**
 * L2 for the embedded mode (no Redis, one replica): the same contract as
 * RedisL2, in process, so the cache behaves identically in both modes.
 * Bounded: the least recently used entry goes first when full (as Redis
 * does under an LRU maxmemory policy).
 */
export class MemoryL2 implements L2Driver {
  private readonly entries: LRUCache<string, Stored>;
  private readonly tags = new Map<string, Set<string>>();
  private readonly locks = new Map<string, Stored>();

  constructor(maxEntries = 100_000) {
    // Whatever removes an entry (eviction, delete, overwrite) drops it from its tags.
    this.entries = new LRUCache({
      max: maxEntries,
      dispose: (stored, key) => this.unindex(key, stored),
    });
  }

  get(key: string): Promise<string | null> {
    return Promise.resolve(this.live(this.entries, key)?.value ?? null);
  }

  set(key: string, value: string, ttlMs: number, tags: readonly string[]): Promise<void> {
    this.entries.set(key, { value, expiresAt: Date.now() + ttlMs, tags });
    for (const tag of tags) {
      let keys = this.tags.get(tag);
      if (!keys) this.tags.set(tag, (keys = new Set()));
      keys.add(key);
    }
    return Promise.resolve();
  }

  invalidate(keys: readonly string[], tags: readonly string[]): Promise<void> {
    for (const key of keys) this.entries.delete(key);
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

  private live(
    map: LRUCache<string, Stored> | Map<string, Stored>,
    key: string,
  ): Stored | undefined {
    const stored = map.get(key);
    if (stored && stored.expiresAt <= Date.now()) {
      map.delete(key);
      return undefined;
    }
    return stored;
  }

  private unindex(key: string, stored: Stored): void {
    for (const tag of stored.tags ?? []) {
      const keys = this.tags.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.tags.delete(tag);
    }
  }
}
