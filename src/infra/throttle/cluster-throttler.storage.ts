import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface.js';
import type { ThrottleCounter, ThrottleStep } from './throttle-record.js';

/** A counter's step as @nestjs/throttler's record (whole seconds). */
export function recordOf(step: ThrottleStep): ThrottlerStorageRecord {
  return {
    totalHits: step.totalHits,
    timeToExpire: Math.ceil(step.windowMs / 1000),
    isBlocked: step.isBlocked,
    timeToBlockExpire: Math.ceil(step.blockMs / 1000),
  };
}

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
    return recordOf(await this.counter.hit(key, ttl, limit, blockDuration));
  }
}
