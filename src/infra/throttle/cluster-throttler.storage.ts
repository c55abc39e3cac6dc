import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface.js';
import type { ThrottleCounter } from './throttle-record.js';

/**
 * @nestjs/throttler's storage contract over our counters (Redis with a local
 * fallback, or memory alone). Keys carry the throttler name already.
 */
export class ClusterThrottlerStorage implements ThrottlerStorage {
  constructor(readonly counter: ThrottleCounter) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
  ): Promise<ThrottlerStorageRecord> {
    const step = await this.counter.hit(key, ttl, limit, blockDuration);
    return {
      totalHits: step.totalHits,
      timeToExpire: Math.ceil(step.windowMs / 1000),
      isBlocked: step.isBlocked,
      timeToBlockExpire: Math.ceil(step.blockMs / 1000),
    };
  }
}
