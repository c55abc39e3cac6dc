import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { MemoryThrottleCounter } from './memory-throttle-counter.js';
import type { ThrottleCounter, ThrottleStep } from './throttle-record.js';

// One atomic step: refuse while blocked; otherwise count, start the window on
// the first hit, and block once over the limit. KEYS share a hash tag so the
// script also runs on Redis Cluster.
const THROTTLE_LUA = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then
  return {tonumber(redis.call('GET', KEYS[1]) or '0'), math.max(redis.call('PTTL', KEYS[1]), 0), 1, blocked}
end
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
if hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return {hits, ttl, 1, tonumber(ARGV[3])}
end
return {hits, ttl, 0, 0}
`;

type ThrottleReply = [number, number, number, number];

interface ThrottleRedis extends Redis {
  throttleStep(
    hitsKey: string,
    blockKey: string,
    ttlMs: number,
    limit: number,
    blockMs: number,
  ): Promise<ThrottleReply>;
}

/**
 * Cluster-wide counters in Redis: one EVALSHA per check (the checks of
 * concurrent requests overlap on the one connection). While Redis is down or slow, counting falls back to this
 * replica's memory — never a 500, never a queue of waiting requests — and goes
 * back to Redis as soon as it answers again.
 */
export class RedisThrottleCounter implements ThrottleCounter {
  private readonly logger = new Logger('Throttle');
  private readonly redis: ThrottleRedis;
  private inOutage = false;

  constructor(
    redis: Redis,
    private readonly fallback: MemoryThrottleCounter,
    private readonly onFallback: () => void = () => undefined,
  ) {
    if (!('throttleStep' in redis)) {
      redis.defineCommand('throttleStep', { numberOfKeys: 2, lua: THROTTLE_LUA });
    }
    this.redis = redis as ThrottleRedis;
  }

  async hit(key: string, ttlMs: number, limit: number, blockMs: number): Promise<ThrottleStep> {
    if (this.redis.status === 'ready') {
      try {
        const [totalHits, windowMs, blocked, remainingBlockMs] = await this.redis.throttleStep(
          `thr:{${key}}:h`,
          `thr:{${key}}:b`,
          ttlMs,
          limit,
          blockMs,
        );
        if (this.inOutage) {
          this.inOutage = false;
          this.logger.warn('Redis is back: rate limits are cluster-wide again');
        }
        return { totalHits, windowMs, isBlocked: blocked === 1, blockMs: remainingBlockMs };
      } catch {
        // fall through to the local limiter
      }
    }
    if (!this.inOutage) {
      this.inOutage = true;
      this.logger.warn('Redis unavailable: rate limits fall back to per-replica memory');
    }
    this.onFallback();
    return this.fallback.hit(key, ttlMs, limit, blockMs);
  }
}
