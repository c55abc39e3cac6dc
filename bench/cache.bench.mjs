// Micro-benchmark of TwoTierCache.getOrSet: L1 hit and L2 (Redis) hit, in process.
// Prints ops/s; judges nothing. Run `npx nest build` first, then:
//   node bench/cache.bench.mjs          (Redis on 127.0.0.1:6379, own key prefix)
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { MemoryMessageBus } from '../dist/src/infra/bus/index.js';
import { RedisL2, TwoTierCache } from '../dist/src/infra/cache/index.js';

const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const prefix = `cachebench${randomBytes(3).toString('hex')}:`;
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
const options = { ttlMs: 600_000, graceMs: 600_000 };
const make = (l1MaxEntries) =>
  new TwoTierCache({
    l2: new RedisL2(redis),
    bus: new MemoryMessageBus(),
    l1MaxEntries,
    l1MaxBytes: 64 * 1024 * 1024,
    l1MaxTtlMs: 600_000,
  });

async function measure(label, ms, batch, op) {
  let ops = 0;
  const end = performance.now() + ms;
  let i = 0;
  while (performance.now() < end) {
    const pending = new Array(batch);
    for (let j = 0; j < batch; j++) pending[j] = op(i++);
    await Promise.all(pending);
    ops += batch;
  }
  const rate = Math.round(ops / (ms / 1000));
  console.log(`${label.padEnd(44)} ${rate.toLocaleString('en-US').padStart(12)} ops/s`);
  return rate;
}

const KEYS = 1000;
const writer = make(KEYS);
for (let id = 1; id <= KEYS; id++)
  await writer.getOrSet(`p:${id}`, async () => product(id), options);

// L1: 1000 hot keys, all resident.
await measure('getOrSet L1 hit (warm-up)', 500, 100, (i) =>
  writer.getOrSet(`p:${(i % KEYS) + 1}`, async () => null, options),
);
await measure('getOrSet L1 hit', 2000, 100, (i) =>
  writer.getOrSet(`p:${(i % KEYS) + 1}`, async () => null, options),
);
// L2: an L1 of one entry cycling over 1000 keys, so every read goes to Redis
// (100 concurrent reads share round trips through auto-pipelining).
const reader = make(1);
await measure('getOrSet L2 hit, 100 concurrent (warm-up)', 500, 100, (i) =>
  reader.getOrSet(`p:${(i % KEYS) + 1}`, async () => null, options),
);
await measure('getOrSet L2 hit, 100 concurrent', 2000, 100, (i) =>
  reader.getOrSet(`p:${(i % KEYS) + 1}`, async () => null, options),
);
await measure('getOrSet L2 hit, sequential', 1000, 1, (i) =>
  reader.getOrSet(`p:${(i % KEYS) + 1}`, async () => null, options),
);
console.log(`L2 hits counted: ${reader.stats.l2Hits}, loader runs: ${reader.stats.misses}`);

const keys = await redis.keys(`${prefix}*`);
if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
redis.disconnect();
