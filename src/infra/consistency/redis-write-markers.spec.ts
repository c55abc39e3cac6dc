import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { dropRedisKeys, TEST_REDIS_URL, testRedisPrefix } from '../../../test/helpers/env.js';
import { RedisWriteMarkers } from './redis-write-markers.js';

describe('RedisWriteMarkers (real Redis)', () => {
  const prefix = testRedisPrefix();
  const clients: Redis[] = [];
  const client = () => {
    const c = new Redis(TEST_REDIS_URL, { keyPrefix: prefix, enableOfflineQueue: true });
    clients.push(c);
    return c;
  };

  afterAll(async () => {
    await dropRedisKeys(prefix);
    for (const c of clients) c.disconnect();
  });

  it('stores one key per user with a PX TTL, under the key prefix', async () => {
    const redis = client();
    await new RedisWriteMarkers(redis).mark(41, 5000);
    const ttl = await redis.pttl(RedisWriteMarkers.key(41));
    expect(ttl).toBeGreaterThan(4000);
    expect(ttl).toBeLessThanOrEqual(5000);
    const raw = new Redis(TEST_REDIS_URL);
    expect(await raw.exists(`${prefix}ryw:41`)).toBe(1);
    await raw.quit();
  });

  it("lets another app replica see a user's marker, and nobody else's", async () => {
    await new RedisWriteMarkers(client()).mark(42, 5000);
    const other = new RedisWriteMarkers(client());
    expect(await other.isMarked(42)).toBe(true);
    expect(await other.isMarked(43)).toBe(false);
  });

  it('forgets a marker after its TTL, on every replica', async () => {
    await new RedisWriteMarkers(client()).mark(44, 50);
    await sleep(120);
    expect(await new RedisWriteMarkers(client()).isMarked(44)).toBe(false);
  });

  it('answers its own markers from memory, without Redis', async () => {
    const redis = client();
    const store = new RedisWriteMarkers(redis);
    await store.mark(45, 5000);
    redis.disconnect();
    expect(await store.isMarked(45)).toBe(true);
    await expect(store.isMarked(46)).rejects.toThrow();
  });
});
