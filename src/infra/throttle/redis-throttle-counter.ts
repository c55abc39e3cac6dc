import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { groupBySlot, RedisGate, type RedisClient } from '../redis/index.js';
import { MemoryThrottleCounter } from './memory-throttle-counter.js';
import type { ThrottleCounter, ThrottleStep } from './throttle-record.js';

// One atomic step per tracker of a batch: refuse while blocked (refused = 1,
// nothing counted); otherwise add the batch's n hits, start the window on the
// first hit, and block once over the limit. Per tracker, KEYS are (hits, block)
// and ARGV is (window ms, limit, block ms, n); the reply is (hits, window ms,
// refused, block ms). Which hits of the batch are over the limit, the caller
// works out from the count.
const THROTTLE_BATCH_LUA = `
local out = {}
for t = 0, #KEYS / 2 - 1 do
  local hk, bk = KEYS[2 * t + 1], KEYS[2 * t + 2]
  local ttl, limit, block, n = tonumber(ARGV[4 * t + 1]), tonumber(ARGV[4 * t + 2]), tonumber(ARGV[4 * t + 3]), tonumber(ARGV[4 * t + 4])
  local blocked = redis.call('PTTL', bk)
  if blocked > 0 then
    out[#out + 1] = tonumber(redis.call('GET', hk) or '0')
    out[#out + 1] = math.max(redis.call('PTTL', hk), 0)
    out[#out + 1] = 1
    out[#out + 1] = blocked
  else
    local hits = redis.call('INCRBY', hk, n)
    local w = redis.call('PTTL', hk)
    if w < 0 then
      redis.call('PEXPIRE', hk, ttl)
      w = ttl
    end
    if hits > limit then
      redis.call('SET', bk, '1', 'PX', block)
    end
    out[#out + 1] = hits
    out[#out + 1] = w
    out[#out + 1] = 0
    out[#out + 1] = block
  end
end
return out
`;

const hitsKey = (tracker: string) => `thr:{${tracker}}:h`;
const blockKey = (tracker: string) => `thr:{${tracker}}:b`;

/** Trackers per script call: bounds the time one call holds Redis. */
const MAX_TRACKERS_PER_CALL = 256;

// Same commands on Redis and Cluster; the type names the defined command once.
interface ThrottleRedis extends Redis {
  throttleBatch(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<number[]>;
}

/** The hits of one tracker waiting for the next flush, in arrival order. */
interface Pending {
  key: string;
  ttlMs: number;
  limit: number;
  blockMs: number;
  waiters: ((step: ThrottleStep) => void)[];
}

/**
 * Cluster-wide counters in Redis. The hits of one event-loop turn are sent as
 * ONE script call, with the hits of each tracker added in one INCRBY: the count
 * stays exact (every hit is in Redis before its request is answered) while
 * ioredis's per-command CPU, which cost 40% of a cached request's throughput
 * when paid per request, is paid once per turn. While Redis is down or slow,
 * counting falls back to this replica's memory — never a 500, never a queue
 * of waiting requests — and goes back to Redis as soon as it answers again.
 *
 * A tracker's two keys share the hash tag `{<tracker>}`. On Redis Cluster
 * the trackers of one turn are in different slots, so the turn is sent as
 * one call per slot (a script's keys must share one).
 */
export class RedisThrottleCounter implements ThrottleCounter {
  private readonly logger = new Logger('Throttle');
  private readonly redis: ThrottleRedis;
  private readonly client: RedisClient;
  private pending = new Map<string, Pending>();
  private inOutage = false;

  constructor(
    redis: RedisClient,
    private readonly fallback: MemoryThrottleCounter,
    private readonly onFallback: () => void = () => undefined,
    private readonly gate = new RedisGate(redis),
  ) {
    if (!('throttleBatch' in redis)) {
      redis.defineCommand('throttleBatch', { lua: THROTTLE_BATCH_LUA });
    }
    this.redis = redis as ThrottleRedis;
    this.client = redis;
  }

  hit(key: string, ttlMs: number, limit: number, blockMs: number): Promise<ThrottleStep> {
    if (!this.gate.isOpen) return this.local(key, ttlMs, limit, blockMs);
    return new Promise((resolve) => {
      if (this.pending.size === 0) setImmediate(() => this.flush());
      let p = this.pending.get(key);
      if (!p) {
        p = { key, ttlMs, limit, blockMs, waiters: [] };
        this.pending.set(key, p);
      }
      p.waiters.push(resolve);
    });
  }

  private flush(): void {
    const all = [...this.pending.values()];
    this.pending = new Map();
    for (const batch of groupBySlot(this.client, all, (p) => hitsKey(p.key))) {
      for (let i = 0; i < batch.length; i += MAX_TRACKERS_PER_CALL) {
        void this.send(batch.slice(i, i + MAX_TRACKERS_PER_CALL));
      }
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    const keys: string[] = [];
    const args: number[] = [];
    for (const p of batch) {
      keys.push(hitsKey(p.key), blockKey(p.key));
      args.push(p.ttlMs, p.limit, p.blockMs, p.waiters.length);
    }
    let reply: number[];
    try {
      reply = await this.gate.run(() => this.redis.throttleBatch(keys.length, ...keys, ...args));
    } catch {
      for (const p of batch) {
        for (const resolve of p.waiters) {
          void this.local(p.key, p.ttlMs, p.limit, p.blockMs).then(resolve);
        }
      }
      return;
    }
    if (this.inOutage) {
      this.inOutage = false;
      this.logger.warn('Redis is back: rate limits are cluster-wide again');
    }
    batch.forEach((p, t) => {
      const [hits, windowMs, refused, blockMs] = reply.slice(4 * t, 4 * t + 4);
      const n = p.waiters.length;
      p.waiters.forEach((resolve, i) => {
        // Refused without counting: everyone sees the frozen count.
        if (refused === 1) return resolve({ totalHits: hits, windowMs, isBlocked: true, blockMs });
        // Counted: the i-th hit of this batch is number hits - n + i + 1.
        const totalHits = hits - n + i + 1;
        const isBlocked = totalHits > p.limit;
        resolve({ totalHits, windowMs, isBlocked, blockMs: isBlocked ? blockMs : 0 });
      });
    });
  }

  /** True from the first check counted locally until a check reaches Redis again. */
  get fallingBack(): boolean {
    return this.inOutage;
  }

  private local(key: string, ttlMs: number, limit: number, blockMs: number): Promise<ThrottleStep> {
    if (!this.inOutage) {
      this.inOutage = true;
      this.logger.warn('Redis unavailable: rate limits fall back to per-replica memory');
    }
    this.onFallback();
    return this.fallback.hit(key, ttlMs, limit, blockMs);
  }
}
