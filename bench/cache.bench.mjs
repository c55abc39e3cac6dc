// Micro-benchmark of TwoTierCache.getOrSet beside bentocache's getOrSet, same
// workload, in process: L1 hit and L2 (Redis) hit. Both caches' L2 run on one
// shared ioredis client (bentocache's Redis driver accepts an existing one),
// under a key prefix of this run that is deleted at the end. Prints ops/s; judges nothing. Run `npx nest build` first:
//   node bench/cache.bench.mjs [--ms=2000]  (Redis on 127.0.0.1:6379; BENCH_REDIS_URL)
import { randomBytes } from 'node:crypto';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { Redis } from 'ioredis';
import { MemoryMessageBus } from '../dist/src/infra/bus/index.js';
import { RedisL2, TwoTierCache } from '../dist/src/infra/cache/index.js';

const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const ms = Number(process.argv.find((a) => a.startsWith('--ms='))?.slice(5) ?? 2000);
const prefix = `cachebench${randomBytes(3).toString('hex')}:`;
// Configured like the app's client (src/infra/redis).
const redis = new Redis(redisUrl, {
  keyPrefix: prefix,
  enableAutoPipelining: true,
  enableOfflineQueue: false,
  commandTimeout: 1000,
});
await new Promise((resolve) => redis.once('ready', resolve));

const product = (id) => ({
  id,
  name: `product ${id}`,
  description: 'demo',
  priceCents: 100 * id,
  stock: 10,
  imageUrl: null,
  updatedAt: new Date(0).toISOString(),
});
const KEYS = 1000;
const TTL_MS = 600_000;

/** Our cache, and bentocache set up the same way: L1 of `l1MaxEntries`, L2 on `redis`. */
const ours = (l1MaxEntries) => {
  const cache = new TwoTierCache({
    l2: new RedisL2(redis),
    bus: new MemoryMessageBus(),
    l1MaxEntries,
    l1MaxBytes: 64 * 1024 * 1024,
    l1MaxTtlMs: TTL_MS,
  });
  const options = { ttlMs: TTL_MS, graceMs: TTL_MS };
  return {
    getOrSet: (key, load) => cache.getOrSet(key, load, options),
    close: async () => undefined,
  };
};
const bento = (l1MaxEntries) => {
  const cache = new BentoCache({
    default: 'bench',
    stores: {
      bench: bentostore()
        .useL1Layer(memoryDriver({ maxItems: l1MaxEntries, maxSize: 64 * 1024 * 1024 }))
        .useL2Layer(redisDriver({ connection: redis, prefix: 'bento' }))
        // Not `connection: redis`: the bus duplicates the client and
        // subscribes before the copy is connected, which a fail-fast client
        // (enableOfflineQueue: false, as the app's) refuses with an uncaught
        // error. The bus gets a client of its own, with the offline queue on.
        .useBus(
          redisBusDriver({
            connection: { ...redis.options, keyPrefix: undefined, enableOfflineQueue: true },
          }),
        ),
    },
  });
  return {
    getOrSet: (key, load) => cache.getOrSet({ key, factory: load, ttl: TTL_MS, grace: TTL_MS }),
    close: () => cache.disconnectAll(),
  };
};

async function measure(label, batch, op) {
  const run = async (duration) => {
    let ops = 0;
    const end = performance.now() + duration;
    let i = 0;
    while (performance.now() < end) {
      const pending = new Array(batch);
      for (let j = 0; j < batch; j++) pending[j] = op(i++);
      await Promise.all(pending);
      ops += batch;
    }
    return ops;
  };
  await run(ms / 4); // warm-up
  const rate = Math.round((await run(ms)) / (ms / 1000));
  console.log(`${label.padEnd(52)} ${rate.toLocaleString('en-US').padStart(12)} ops/s`);
}

const none = async () => null;
const opened = [];
try {
  for (const [name, make] of [
    ['TwoTierCache', ours],
    ['bentocache', bento],
  ]) {
    // L1: 1000 hot keys, all resident.
    const writer = make(KEYS);
    opened.push(writer);
    for (let id = 1; id <= KEYS; id++) await writer.getOrSet(`p:${id}`, async () => product(id));
    await measure(`${name} getOrSet L1 hit`, 100, (i) =>
      writer.getOrSet(`p:${(i % KEYS) + 1}`, none),
    );
    // L2: an L1 of one entry cycling over 1000 keys, so every read goes to
    // Redis (100 concurrent reads share round trips through auto-pipelining).
    const reader = make(1);
    opened.push(reader);
    await measure(`${name} getOrSet L2 hit, 100 concurrent`, 100, (i) =>
      reader.getOrSet(`p:${(i % KEYS) + 1}`, none),
    );
    await measure(`${name} getOrSet L2 hit, sequential`, 1, (i) =>
      reader.getOrSet(`p:${(i % KEYS) + 1}`, none),
    );
  }
} finally {
  const keys = [];
  for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 1000 })) {
    keys.push(...batch);
  }
  for (let i = 0; i < keys.length; i += 500) {
    await redis.unlink(...keys.slice(i, i + 500).map((k) => k.slice(prefix.length)));
  }
  // Last: closing bentocache also disconnects the client lent to its driver.
  for (const cache of opened) await cache.close();
  redis.disconnect();
}
