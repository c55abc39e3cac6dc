/**
 * The shared second tier. Values are opaque strings (the cache serializes).
 * Every method may reject when the store is unreachable; the cache catches.
 */
export interface L2Driver {
  get(key: string): Promise<string | null>;
  /** Stores with a TTL and records the key under each tag for invalidateTags. */
  set(key: string, value: string, ttlMs: number, tags: readonly string[]): Promise<void>;
  /** Deletes these keys and every key recorded under these tags. */
  invalidate(keys: readonly string[], tags: readonly string[]): Promise<void>;
  /** Short exclusive lock (cross-replica single-flight); true when acquired. */
  tryLock(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** Releases the lock only if it is still held with this token. */
  unlock(key: string, token: string): Promise<void>;
}
