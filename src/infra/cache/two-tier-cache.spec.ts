import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { TEST_REDIS_URL as REDIS_URL, testRedisPrefix } from '../../../test/helpers/env.js';
import { OwnRedisServer } from '../../../test/helpers/redis-server.js';
import { MemoryMessageBus, RedisMessageBus, type MessageBus } from '../bus/index.js';
import type { L2Driver } from './l2-driver.js';
import { MemoryL2 } from './memory-l2.js';
import { RedisL2 } from './redis-l2.js';
import { TwoTierCache, type TwoTierCacheOptions } from './two-tier-cache.js';

/** A client configured like the app's (fail fast while Redis is away). */
function client(prefix: string, url = REDIS_URL): Redis {
  const redis = new Redis(url, {
    keyPrefix: prefix,
    enableOfflineQueue: false,
    commandTimeout: 500,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
    retryStrategy: () => 50,
  });
  redis.on('error', () => undefined);
  return redis;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function counter(value: string) {
  const loader = vi.fn(() => Promise.resolve(value));
  return loader;
}

interface Replica {
  cache: TwoTierCache;
  redis: Redis;
  bus: MessageBus;
}

/** One "replica": its own Redis connection, bus and cache on a shared prefix. */
async function replica(
  prefix: string,
  options: Partial<TwoTierCacheOptions> = {},
  url = REDIS_URL,
): Promise<Replica> {
  const redis = client(prefix, url);
  await until(() => redis.status === 'ready');
  const bus = new RedisMessageBus(
    redis,
    redis.duplicate({ keyPrefix: undefined, enableOfflineQueue: true, maxRetriesPerRequest: null }),
    prefix,
  );
  const cache = new TwoTierCache({
    l2: new RedisL2(redis),
    bus,
    l1MaxEntries: 1000,
    l1MaxBytes: 1_000_000,
    l1MaxTtlMs: 60_000,
    ...options,
  });
  cache.onModuleInit();
  await bus.ready();
  cleanups.push(async () => {
    await bus.close();
    redis.disconnect();
  });
  return { cache, redis, bus };
}

const TTL = { ttlMs: 60_000 };

describe.each([
  ['Redis L2', () => new RedisL2(client(testRedisPrefix()))],
  ['in-process L2', () => new MemoryL2()],
])('TwoTierCache on %s', (_name, makeL2: () => L2Driver) => {
  function local(options: Partial<TwoTierCacheOptions> = {}): TwoTierCache {
    const cache = new TwoTierCache({
      l2: makeL2(),
      bus: new MemoryMessageBus(),
      l1MaxEntries: 1000,
      l1MaxBytes: 1_000_000,
      l1MaxTtlMs: 60_000,
      ...options,
    });
    cache.onModuleInit();
    return cache;
  }

  it('runs the loader once for 100 concurrent misses of one key', async () => {
    const cache = local();
    let calls = 0;
    const loader = async () => {
      calls++;
      await sleep(30);
      return { n: calls };
    };
    const results = await Promise.all(
      Array.from({ length: 100 }, () => cache.getOrSet('k', loader, TTL)),
    );
    expect(calls).toBe(1);
    expect(new Set(results.map((r) => r?.n))).toEqual(new Set([1]));
    expect(cache.stats.misses).toBe(1);
  });

  it('answers later reads from L1 without the loader', async () => {
    const cache = local();
    const loader = counter('v');
    await cache.getOrSet('k', loader, TTL);
    expect(await cache.getOrSet('k', loader, TTL)).toBe('v');
    expect(loader).toHaveBeenCalledTimes(1);
    expect(cache.stats.l1Hits).toBe(1);
  });

  it('caches "not found" for its own short TTL', async () => {
    const cache = local({ jitter: 0 });
    const loader = vi.fn(() => Promise.resolve(null));
    const options = { ttlMs: 60_000, negativeTtlMs: 100 };
    expect(await cache.getOrSet('missing', loader, options)).toBeNull();
    expect(await cache.getOrSet('missing', loader, options)).toBeNull();
    expect(loader).toHaveBeenCalledTimes(1);
    await sleep(130);
    await cache.getOrSet('missing', loader, options);
    expect(loader).toHaveBeenCalledTimes(2);
  });

  it('does not cache a failed load, and the next call retries', async () => {
    const cache = local();
    const loader = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(new Error('db down'))
      .mockResolvedValueOnce('ok');
    await expect(cache.getOrSet('k', loader, TTL)).rejects.toThrow('db down');
    expect(await cache.getOrSet('k', loader, TTL)).toBe('ok');
    expect(cache.stats.loaderErrors).toBe(1);
  });

  it('serves the stale value within grace when the loader fails, then backs off', async () => {
    const cache = local({ jitter: 0, failureBackoffMs: 10_000 });
    const options = { ttlMs: 50, graceMs: 60_000 };
    await cache.getOrSet('k', counter('old'), options);
    await sleep(70);
    const failing = vi.fn(() => Promise.reject(new Error('db down')));
    expect(await cache.getOrSet('k', failing, options)).toBe('old');
    expect(await cache.getOrSet('k', failing, options)).toBe('old');
    expect(failing).toHaveBeenCalledTimes(1);
    expect(cache.stats.staleServed).toBe(1);
    expect(cache.stats.loaderErrors).toBe(1);
  });

  it('answers concurrent callers with the stale value while one caller refreshes', async () => {
    const cache = local({ jitter: 0 });
    const options = { ttlMs: 50, graceMs: 60_000 };
    await cache.getOrSet('k', counter('old'), options);
    await sleep(70);
    let release: () => void = () => undefined;
    const slow = vi.fn(() => new Promise<string>((resolve) => (release = () => resolve('new'))));
    const refreshing = cache.getOrSet('k', slow, options);
    await sleep(10);
    expect(await cache.getOrSet('k', slow, options)).toBe('old');
    release();
    expect(await refreshing).toBe('new');
    expect(await cache.getOrSet('k', slow, options)).toBe('new');
    expect(slow).toHaveBeenCalledTimes(1);
  });

  it('returns stale after the soft timeout and stores the slow result when it lands', async () => {
    const cache = local({ jitter: 0 });
    await cache.getOrSet('k', counter('old'), { ttlMs: 50, graceMs: 60_000 });
    await sleep(70);
    const options = { ttlMs: 60_000, graceMs: 60_000, softTimeoutMs: 30 };
    const slow = () => sleep(150).then(() => 'new');
    const started = Date.now();
    expect(await cache.getOrSet('k', slow, options)).toBe('old');
    expect(Date.now() - started).toBeLessThan(120);
    expect(cache.stats.staleServed).toBe(1);
    await sleep(200);
    expect(await cache.getOrSet('k', counter('unused'), options)).toBe('new');
  });

  it('does not cache a load that an invalidation overtook', async () => {
    const cache = local();
    const slow = () => sleep(50).then(() => 'before-write');
    const pending = cache.getOrSet('k', slow, TTL);
    await sleep(10);
    await cache.delete('k');
    expect(await pending).toBe('before-write');
    expect(await cache.getOrSet('k', counter('after-write'), TTL)).toBe('after-write');
  });

  it('drops every entry of a tag, in both tiers, and keeps the others', async () => {
    const l2 = makeL2();
    const make = () =>
      new TwoTierCache({
        l2,
        bus: new MemoryMessageBus(),
        l1MaxEntries: 100,
        l1MaxBytes: 100_000,
        l1MaxTtlMs: 60_000,
      });
    const cache = make();
    const tagged = { ttlMs: 60_000, tags: ['products'] };
    await cache.getOrSet('page:1', counter('p1'), tagged);
    await cache.getOrSet('page:2', counter('p2'), tagged);
    await cache.getOrSet('other', counter('o'), TTL);
    await cache.invalidateTags('products');
    const reload = counter('fresh');
    expect(await cache.getOrSet('page:1', reload, tagged)).toBe('fresh');
    expect(await cache.getOrSet('other', reload, TTL)).toBe('o');
    // A second cache on the same L2 (another replica): the tag is gone there too.
    expect(await make().getOrSet('page:2', reload, tagged)).toBe('fresh');
    expect(reload).toHaveBeenCalledTimes(2);
  });

  it('shortens TTLs by a random jitter, never lengthens them', async () => {
    // Wide margins: the polling below runs on a shared, noisy machine.
    const cache = local({ jitter: 0.5 });
    const options = { ttlMs: 1000 };
    const expiries = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        await cache.getOrSet(`j${i}`, counter('v'), options);
        const start = Date.now();
        while ((await cache.getOrSet(`j${i}`, counter('reloaded'), options)) === 'v') {
          await sleep(5);
        }
        return Date.now() - start;
      }),
    );
    expect(Math.max(...expiries)).toBeLessThanOrEqual(1150);
    expect(Math.min(...expiries)).toBeGreaterThanOrEqual(450);
    expect(Math.min(...expiries)).toBeLessThan(Math.max(...expiries) - 150);
  });
});

describe('TwoTierCache across replicas on one Redis', () => {
  it('fills L1 from an L2 hit without running the loader', async () => {
    const prefix = testRedisPrefix();
    const a = await replica(prefix);
    const b = await replica(prefix);
    await a.cache.getOrSet('k', counter('v'), TTL);
    const loader = counter('never');
    expect(await b.cache.getOrSet('k', loader, TTL)).toBe('v');
    expect(await b.cache.getOrSet('k', loader, TTL)).toBe('v');
    expect(loader).not.toHaveBeenCalled();
    expect(b.cache.stats.l2Hits).toBe(1);
    expect(b.cache.stats.l1Hits).toBe(1);
  });

  it('stores L2 entries with their own TTL (ttl + grace)', async () => {
    const prefix = testRedisPrefix();
    const a = await replica(prefix, { jitter: 0 });
    await a.cache.getOrSet('k', counter('v'), { ttlMs: 10_000, graceMs: 5_000 });
    const pttl = await a.redis.pttl('c:k');
    expect(pttl).toBeGreaterThan(14_000);
    expect(pttl).toBeLessThanOrEqual(15_000);
  });

  it('drops the L1 entry of other replicas within 1 s of a delete or set', async () => {
    const prefix = testRedisPrefix();
    const a = await replica(prefix);
    const b = await replica(prefix);
    await a.cache.getOrSet('k', counter('v1'), TTL);
    await b.cache.getOrSet('k', counter('v1'), TTL);

    await a.cache.set('k', 'v2', TTL);
    await until(async () => (await b.cache.getOrSet('k', counter('db'), TTL)) === 'v2', 1000);

    await a.cache.delete('k');
    await until(async () => (await b.cache.getOrSet('k', counter('v3'), TTL)) === 'v3', 1000);
    expect(b.cache.stats.invalidationsReceived).toBe(2);
    expect(a.cache.stats.invalidationsSent).toBe(2);
  });

  it('drops tagged L1 entries on other replicas', async () => {
    const prefix = testRedisPrefix();
    const a = await replica(prefix);
    const b = await replica(prefix);
    const tagged = { ttlMs: 60_000, tags: ['list'] };
    await b.cache.getOrSet('list:1', counter('old'), tagged);
    await a.cache.invalidateTags('list');
    await until(
      async () => (await b.cache.getOrSet('list:1', counter('new'), tagged)) === 'new',
      1000,
    );
  });

  it('drops an item and a tag on every replica with one message, leaving nothing to replay', async () => {
    const prefix = testRedisPrefix();
    const a = await replica(prefix);
    const b = await replica(prefix);
    const tagged = { ttlMs: 60_000, tags: ['list'] };
    await b.cache.getOrSet('item:1', counter('old'), TTL);
    await b.cache.getOrSet('list:1', counter('old'), tagged);
    await a.cache.invalidate(['item:1'], ['list']);
    expect(await a.redis.exists('c:item:1', 'c:list:1')).toBe(0);
    await until(async () => (await b.cache.getOrSet('item:1', counter('new'), TTL)) === 'new');
    expect(await b.cache.getOrSet('list:1', counter('new'), tagged)).toBe('new');
    // The next L2 call of `a` replays nothing: both changes reached Redis.
    await a.cache.getOrSet('other', counter('x'), TTL);
    await a.cache.delete('other');
    await sleep(100);
    expect(a.cache.stats.invalidationsSent).toBe(2);
    expect(b.cache.stats.invalidationsReceived).toBe(2);
  });

  it("sends one turn's invalidations together: one message, every key and tag gone from L2 and the other L1s", async () => {
    const prefix = testRedisPrefix();
    const a = await replica(prefix);
    const b = await replica(prefix);
    const tagged = { ttlMs: 60_000, tags: ['list'] };
    for (const key of ['item:1', 'item:2', 'item:3'])
      await b.cache.getOrSet(key, counter('old'), TTL);
    await b.cache.getOrSet('list:1', counter('old'), tagged);
    // Three writers of one turn (three orders answered by one poll of the sockets).
    await Promise.all([
      a.cache.invalidate(['item:1'], ['list']),
      a.cache.invalidate(['item:2'], ['list']),
      a.cache.delete('item:3'),
    ]);
    expect(await a.redis.exists('c:item:1', 'c:item:2', 'c:item:3', 'c:list:1')).toBe(0);
    await until(() => b.cache.stats.invalidationsReceived === 1);
    for (const key of ['item:1', 'item:2', 'item:3']) {
      expect(await b.cache.getOrSet(key, counter('new'), TTL)).toBe('new');
    }
    expect(await b.cache.getOrSet('list:1', counter('new'), tagged)).toBe('new');
    expect(a.cache.stats.invalidationsSent).toBe(1);
    // The next turn's invalidation is a message of its own.
    await a.cache.delete('item:1');
    await until(() => b.cache.stats.invalidationsReceived === 2);
  });

  it('reads L2 only after an invalidation of the key gathered in the same turn is sent', async () => {
    const prefix = testRedisPrefix();
    const a = await replica(prefix);
    const tagged = { ttlMs: 60_000, tags: ['list'] };
    await a.cache.getOrSet('item:1', counter('old'), TTL);
    await a.cache.getOrSet('list:1', counter('old'), tagged);
    // The write committed; a reader of the same turn must not find the old
    // value in L2 and keep it in this replica's L1.
    const [, item, list] = await Promise.all([
      a.cache.invalidate(['item:1'], ['list']),
      a.cache.getOrSet('item:1', counter('new'), TTL),
      a.cache.getOrSet('list:1', counter('new'), tagged),
    ]);
    expect([item, list]).toEqual(['new', 'new']);
    expect(await a.cache.getOrSet('item:1', counter('later'), TTL)).toBe('new');
  });

  it('bounds staleness by the L1 max TTL when an invalidation is lost', async () => {
    const prefix = testRedisPrefix();
    // Separate in-process buses: no message crosses between the two.
    const ra = client(prefix);
    const rb = client(prefix);
    cleanups.push(
      () => ra.disconnect(),
      () => rb.disconnect(),
    );
    await until(() => ra.status === 'ready' && rb.status === 'ready');
    const options = { l1MaxEntries: 10, l1MaxBytes: 10_000, l1MaxTtlMs: 200, jitter: 0 };
    const a = new TwoTierCache({ l2: new RedisL2(ra), bus: new MemoryMessageBus(), ...options });
    const b = new TwoTierCache({ l2: new RedisL2(rb), bus: new MemoryMessageBus(), ...options });
    await b.getOrSet('k', counter('v1'), TTL);
    await a.set('k', 'v2', TTL);
    expect(await b.getOrSet('k', counter('db'), TTL)).toBe('v1');
    await sleep(220);
    expect(await b.getOrSet('k', counter('db'), TTL)).toBe('v2');
  });

  it('runs an expensive loader once across replicas with the lock option', async () => {
    const prefix = testRedisPrefix();
    const replicas = await Promise.all([replica(prefix), replica(prefix), replica(prefix)]);
    let calls = 0;
    const loader = async () => {
      calls++;
      await sleep(100);
      return 'built';
    };
    const options = { ttlMs: 60_000, lock: { ttlMs: 2000 } };
    const results = await Promise.all(
      replicas.map((r) => r.cache.getOrSet('report', loader, options)),
    );
    expect(results).toEqual(['built', 'built', 'built']);
    expect(calls).toBe(1);
  });

  it('exports hit, miss and invalidation counters to the metrics registry', async () => {
    const registry = new Registry();
    const prefix = testRedisPrefix();
    const a = await replica(prefix, { registry });
    await a.cache.getOrSet('k', counter('v'), TTL);
    await a.cache.getOrSet('k', counter('v'), TTL);
    await a.cache.delete('k');
    let text = await registry.metrics();
    expect(text).toContain('cache_hits_total{tier="l1"} 1');
    expect(text).toContain('cache_misses_total 1');
    expect(text).toContain('cache_invalidations_sent_total 1');
    await a.cache.getOrSet('k', counter('v'), TTL);
    await a.cache.getOrSet('k', counter('v'), TTL);
    text = await registry.metrics();
    expect(text).toContain('cache_hits_total{tier="l1"} 2');
    expect(text).toContain('cache_misses_total 2');
  });
});

describe('TwoTierCache while Redis is down', () => {
  let server: OwnRedisServer;
  beforeAll(async () => {
    server = await OwnRedisServer.start();
  });
  afterAll(async () => {
    await server?.down();
  });

  it('serves from L1 and the loader without throwing, and recovers when Redis returns', async () => {
    const prefix = testRedisPrefix();
    const a = await replica(prefix, { l1MaxTtlMs: 50, l2RetryAfterMs: 100, jitter: 0 }, server.url);
    const options = { ttlMs: 60_000, graceMs: 60_000 };
    await a.cache.getOrSet('cached', counter('v'), options);

    await server.down();
    await sleep(60);
    // L1 is past its own bound, L2 is unreachable: the local copy still serves.
    expect(await a.cache.getOrSet('cached', counter('db'), options)).toBe('v');
    // A key never cached goes to the loader.
    expect(await a.cache.getOrSet('new', counter('from-db'), options)).toBe('from-db');
    // A write during the outage cannot reach L2: it is replayed later.
    await a.cache.delete('cached');
    expect(a.cache.stats.l2Errors).toBeGreaterThan(0);

    await server.up();
    await until(() => a.redis.status === 'ready', 5000);
    let i = 0;
    await until(async () => {
      const key = `after${i++}`;
      await a.cache.getOrSet(key, counter('x'), options);
      return (await a.redis.get(`c:${key}`)) !== null;
    }, 5000);
  });

  it('replays an invalidation that could not reach Redis once it answers again', async () => {
    const prefix = testRedisPrefix();
    const a = await replica(prefix, { l2RetryAfterMs: 50 }, server.url);
    const b = await replica(prefix, { l2RetryAfterMs: 50 }, server.url);
    await a.cache.getOrSet('k', counter('old'), TTL);
    const stored = await a.redis.get('c:k');
    await server.down();
    await a.cache.delete('k');
    await server.up();
    // A Redis with persistence comes back with the entry written before the outage.
    const admin = client(prefix, server.url);
    cleanups.push(() => admin.disconnect());
    await until(() => admin.status === 'ready' && a.redis.status === 'ready', 5000);
    await admin.set('c:k', stored ?? '', 'PX', 60_000);
    await sleep(60);
    await until(async () => {
      await a.cache.getOrSet('probe', counter('p'), { ttlMs: 1 });
      return (await a.redis.exists('c:k')) === 0;
    }, 3000);
    expect(await b.cache.getOrSet('k', counter('new'), TTL)).toBe('new');
  });
});
