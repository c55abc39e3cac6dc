import { MemoryWriteMarkers, type WriteMarkerStore } from './write-markers.js';
import type { RedisClient } from '../redis/index.js';

/**
 * Markers shared by every replica of the app: one key per user with a PX TTL
 * (the client adds REDIS_KEY_PREFIX). A marker this replica set itself is
 * answered from memory, without a round trip.
 */
export class RedisWriteMarkers implements WriteMarkerStore {
  private readonly local: MemoryWriteMarkers;

  constructor(
    private readonly redis: RedisClient,
    now: () => number = Date.now,
  ) {
    this.local = new MemoryWriteMarkers(now);
  }

  static key(userId: number): string {
    return `ryw:${userId}`;
  }

  async mark(userId: number, ttlMs: number): Promise<void> {
    this.local.markNow(userId, ttlMs);
    await this.redis.set(RedisWriteMarkers.key(userId), '1', 'PX', ttlMs);
  }

  async isMarked(userId: number): Promise<boolean> {
    if (this.local.isMarkedNow(userId)) return true;
    return (await this.redis.exists(RedisWriteMarkers.key(userId))) === 1;
  }
}
