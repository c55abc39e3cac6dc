import { Redis } from 'ioredis';
import {
  dropRedisKeys,
  TEST_REDIS_URL as REDIS_URL,
  testRedisPrefix,
} from '../../../test/helpers/env.js';
import { MemoryThrottleCounter } from './memory-throttle-counter.js';
import { RedisThrottleCounter } from './redis-throttle-counter.js';

describe('RedisThrottleCounter (real Redis)', () => {
  const prefix = testRedisPrefix();
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, {
      keyPrefix: prefix,
      enableAutoPipelining: false, // as in the app (src/infra/redis)
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    await redis.connect();
  });
  afterAll(async () => {
    await dropRedisKeys(prefix);
    redis.disconnect();
  });

  it('admits exactly `limit` of 3x concurrent hits, atomically', async () => {
    const c = new RedisThrottleCounter(redis, new MemoryThrottleCounter());
    const steps = await Promise.all(
      Array.from({ length: 30 }, () => c.hit('burst', 60_000, 10, 60_000)),
    );
    expect(steps.filter((s) => !s.isBlocked)).toHaveLength(10);
    expect(steps.filter((s) => s.isBlocked)).toHaveLength(20);
  });

  it('sends the hits of one event-loop turn as one call, counting each tracker exactly', async () => {
    const c = new RedisThrottleCounter(redis, new MemoryThrottleCounter());
    const calls = vi.spyOn(redis as unknown as { throttleBatch: () => unknown }, 'throttleBatch');
    const a = Array.from({ length: 4 }, () => c.hit('turn-a', 60_000, 3, 60_000));
    const b = Array.from({ length: 2 }, () => c.hit('turn-b', 60_000, 3, 60_000));
    const steps = await Promise.all([...a, ...b]);
    expect(calls).toHaveBeenCalledTimes(1);
    calls.mockRestore();
    expect(steps.map((s) => [s.totalHits, s.isBlocked])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [4, true],
      [1, false],
      [2, false],
    ]);
    expect(await redis.get('thr:{turn-a}:h')).toBe('4');
    expect(await redis.get('thr:{turn-b}:h')).toBe('2');
    // The next turn continues the same windows.
    const next = await c.hit('turn-b', 60_000, 3, 60_000);
    expect(next).toMatchObject({ totalHits: 3, isBlocked: false });
  });

  it('counts across counters sharing Redis (two replicas) as one window', async () => {
    const one = new RedisThrottleCounter(redis, new MemoryThrottleCounter());
    const two = new RedisThrottleCounter(redis, new MemoryThrottleCounter());
    const steps = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? one : two).hit('shared', 60_000, 6, 60_000)),
    );
    expect(steps.filter((s) => !s.isBlocked)).toHaveLength(6);
    expect(await redis.get('thr:{shared}:h')).toBe('10');
  });

  it('stores the window and block keys with the window and block TTLs', async () => {
    const c = new RedisThrottleCounter(redis, new MemoryThrottleCounter());
    for (let i = 0; i < 3; i++) await c.hit('tags', 30_000, 2, 20_000);
    const hitsTtl = await redis.pttl('thr:{tags}:h');
    const blockTtl = await redis.pttl('thr:{tags}:b');
    expect(hitsTtl).toBeGreaterThan(25_000);
    expect(hitsTtl).toBeLessThanOrEqual(30_000);
    expect(blockTtl).toBeGreaterThan(15_000);
    expect(blockTtl).toBeLessThanOrEqual(20_000);
  });

  it('refuses while blocked without counting further hits', async () => {
    const c = new RedisThrottleCounter(redis, new MemoryThrottleCounter());
    for (let i = 0; i < 3; i++) await c.hit('blocked', 30_000, 2, 20_000);
    const during = await c.hit('blocked', 30_000, 2, 20_000);
    expect(during).toMatchObject({ isBlocked: true, totalHits: 3 });
    expect(during.blockMs).toBeGreaterThan(0);
  });

  it('falls back to local counting when Redis is unreachable, and says so', async () => {
    const dead = new Redis({
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    let fallbacks = 0;
    const c = new RedisThrottleCounter(dead, new MemoryThrottleCounter(), () => fallbacks++);
    const steps = await Promise.all(
      Array.from({ length: 5 }, () => c.hit('offline', 60_000, 3, 60_000)),
    );
    expect(steps.map((s) => s.isBlocked)).toEqual([false, false, false, true, true]);
    expect(fallbacks).toBe(5);
    expect(c.fallingBack).toBe(true);
    dead.disconnect();
  });

  it('reports falling back only until a check reaches Redis again (throttle_redis_fallback_active)', async () => {
    const c = new RedisThrottleCounter(redis, new MemoryThrottleCounter());
    expect(c.fallingBack).toBe(false);
    await c.hit('healthy', 60_000, 3, 60_000);
    expect(c.fallingBack).toBe(false);
  });
});
