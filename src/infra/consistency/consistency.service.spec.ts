import { Redis } from 'ioredis';
import { dropRedisKeys, TEST_REDIS_URL, testRedisPrefix } from '../../../test/helpers/env.js';
import { ConsistencyService } from './consistency.service.js';
import { RedisWriteMarkers } from './redis-write-markers.js';

describe('ConsistencyService routing decision (real Redis)', () => {
  const prefix = testRedisPrefix();
  const clients: Redis[] = [];
  const live = () => {
    const c = new Redis(TEST_REDIS_URL, { keyPrefix: prefix });
    clients.push(c);
    return c;
  };
  // A client that was never connected: every command fails at once, the way
  // it does while Redis is down.
  const dead = () => {
    const c = new Redis(TEST_REDIS_URL, {
      keyPrefix: prefix,
      lazyConnect: true,
      enableOfflineQueue: false,
    });
    clients.push(c);
    return c;
  };
  const service = (redis: Redis, enabled = true) =>
    new ConsistencyService(new RedisWriteMarkers(redis), { enabled, readYourWritesMs: 5000 });
  let nextUser = 1;
  const user = () => nextUser++;

  afterAll(async () => {
    await dropRedisKeys(prefix);
    for (const c of clients) c.disconnect();
  });

  it('sends reads outside any scope to a replica', async () => {
    expect(await service(live()).readTarget()).toBe('replica');
  });

  it('sends anonymous reads to a replica without looking up a marker', async () => {
    // A lookup on the dead client would fail and choose the primary.
    const s = service(dead());
    expect(await s.runAs(undefined, () => s.readTarget())).toBe('replica');
  });

  it("sends a user's reads to the primary after a write on another app replica", async () => {
    const writer = service(live());
    const reader = service(live());
    const a = user();
    const b = user();
    await writer.runAs(a, () => writer.markWrite(a));
    expect(await reader.runAs(a, () => reader.readTarget())).toBe('primary');
    expect(await reader.runAs(b, () => reader.readTarget())).toBe('replica');
  });

  it('looks the marker up once per scope', async () => {
    const writer = service(live());
    const reader = service(live());
    const a = user();
    await reader.runAs(a, async () => {
      expect(await reader.readTarget()).toBe('replica');
      await writer.markWrite(a);
      // Same request: the answer was resolved on its first read.
      expect(await reader.readTarget()).toBe('replica');
    });
    expect(await reader.runAs(a, () => reader.readTarget())).toBe('primary');
  });

  it('sends the rest of a scope to the primary after its own write, even when Redis is down', async () => {
    const s = service(dead());
    const a = user();
    await s.runAs(undefined, async () => {
      expect(await s.readTarget()).toBe('replica');
      await s.markWrite(a);
      expect(await s.readTarget()).toBe('primary');
    });
  });

  it('reads from the primary when markers cannot be read', async () => {
    const s = service(dead());
    expect(await s.runAs(user(), () => s.readTarget())).toBe('primary');
  });

  it('keeps scopes of concurrent requests apart', async () => {
    const s = service(live());
    const a = user();
    const b = user();
    const tick = () => new Promise((r) => setImmediate(r));
    const [ta, tb] = await Promise.all([
      s.runAs(a, async () => {
        await tick();
        await s.markWrite(a);
        await tick();
        return s.readTarget();
      }),
      s.runAs(b, async () => {
        await tick();
        await tick();
        return s.readTarget();
      }),
    ]);
    expect([ta, tb]).toEqual(['primary', 'replica']);
  });

  it('sends every read of primaryReads to the primary', async () => {
    const s = service(live());
    expect(await s.runAs(user(), () => s.primaryReads(() => s.readTarget()))).toBe('primary');
  });

  it('does nothing without replicas: no scope, no marker', async () => {
    const redis = live();
    const s = service(redis, false);
    const a = user();
    await s.runAs(a, () => s.markWrite(a));
    expect(await redis.exists(RedisWriteMarkers.key(a))).toBe(0);
    expect(await s.runAs(a, () => s.readTarget())).toBe('replica');
  });
});
