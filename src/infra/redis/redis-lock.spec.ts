import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { dropRedisKeys, TEST_REDIS_URL } from '../../../test/helpers/env.js';
import { RedisLock } from './redis-lock.js';

describe('RedisLock (real Redis)', () => {
  const prefix = `tlock${randomBytes(4).toString('hex')}:`;
  let redis: Redis;
  let lock: RedisLock;

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix, lazyConnect: true });
    await redis.connect();
    lock = new RedisLock(redis);
  });
  afterAll(async () => {
    await dropRedisKeys(prefix);
    redis.disconnect();
  });

  it('admits exactly one of many concurrent callers', async () => {
    const owners = await Promise.all(
      Array.from({ length: 10 }, () => lock.tryAcquire('race', 5_000)),
    );
    expect(owners.filter((o) => o !== null)).toHaveLength(1);
  });

  it('is released only by its owner', async () => {
    const owner = await lock.tryAcquire('owned', 5_000);
    expect(owner).not.toBeNull();
    await lock.unlock('owned', 'someone-else');
    expect(await lock.tryAcquire('owned', 5_000)).toBeNull();
    await lock.unlock('owned', owner!);
    expect(await lock.tryAcquire('owned', 5_000)).not.toBeNull();
  });

  it('frees itself after its TTL (a holder that died)', async () => {
    expect(await lock.tryAcquire('ttl', 50)).not.toBeNull();
    expect(await lock.tryAcquire('ttl', 50)).toBeNull();
    await sleep(80);
    expect(await lock.tryAcquire('ttl', 50)).not.toBeNull();
  });

  it('keeps the token the caller chose', async () => {
    expect(await lock.tryAcquire('chosen', 5_000, 'tok-1')).toBe('tok-1');
    expect(await redis.get('chosen')).toBe('tok-1');
  });
});
