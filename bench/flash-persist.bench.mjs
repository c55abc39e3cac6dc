#!/usr/bin/env node
// `npm run bench:flash-persist`: the flash-sale persister alone, on the BUILT
// app (one WORKER_MODE=worker process pinned to CPU 1), local MariaDB and
// Redis. A backlog of `--tickets` admissions is queued through the real
// admission script (no HTTP: admission is `npm run bench`'s flash scenario),
// then timed until every ticket has its row; MariaDB's own batched insert
// rate (order-shaped rows, 50 per transaction) and its rate for the batch's
// own SQL run raw (batchSqlRate) run beside it in alternating rounds, so the
// ratios hold on a busy machine. Prints figures, judges nothing.
//
//   node bench/flash-persist.bench.mjs [--tickets=50000] [--rounds=2] [--batch=500]
// env: BENCH_MYSQL_URL (mysql://root@127.0.0.1:3306), BENCH_REDIS_URL, LOG_LEVEL (warn)
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { createConnection } from 'mysql2/promise';
import { createBenchDatabase } from './lib/database.mjs';
import { batchSqlRate, batchedInsertRate } from './lib/flash.mjs';
import { startServer } from './lib/server.mjs';
import { benchArgs, freePort, pinSelfToCpu0, sleep } from './lib/tools.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(repoRoot);
const require = createRequire(import.meta.url);
const { Redis } = require('ioredis');
const { ADMIT_LUA, LOAD_LUA } = await import('../dist/src/modules/flash-sales/admission.scripts.js');
const { saleKeys, ticketFor, CONSUMER_GROUP } = await import('../dist/src/modules/flash-sales/flash-keys.js');

const args = benchArgs();
const tickets = Number(args.tickets ?? 50_000);
const rounds = Number(args.rounds ?? 2);
const mysqlUrl = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const prefix = `bench${randomBytes(3).toString('hex')}:`;
const USERS = 2000;

pinSelfToCpu0();
const db = await createBenchDatabase(mysqlUrl, `mp_bench_persist_${process.pid}`);
const env = {
  ...process.env,
  NODE_ENV: 'production',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  DATABASE_URL: db.url,
  REDIS_URL: redisUrl,
  REDIS_KEY_PREFIX: prefix,
  JWT_SECRET: randomBytes(32).toString('hex'),
  WECHAT_APPID: 'wx-bench',
  WECHAT_SECRET: 'bench-secret',
  WORKER_MODE: 'worker',
  SHUTDOWN_DRAIN_MS: '0',
  ...(args.batch ? { FLASH_BATCH_SIZE: args.batch } : {}),
};
const redis = new Redis(redisUrl, { keyPrefix: prefix });
const c = await createConnection({ uri: db.url, timezone: 'Z' });

/** A sale of `tickets` units in the database and in Redis, every unit admitted (queued in its stream). */
async function queuedSale(productId, users) {
  const now = Date.now();
  const [sale] = await c.query(
    `INSERT INTO flash_sales (product_id, product_name, price_cents, stock, remaining, per_user_limit, starts_at, ends_at, created_at, updated_at)
     VALUES (?, 'Flash bench tea', 990, ?, ?, ?, ?, ?, ?, ?)`,
    [productId, tickets, tickets, tickets, new Date(now - 1000), new Date(now + 3_600_000), new Date(now), new Date(now)],
  );
  const id = sale.insertId;
  const k = saleKeys(id);
  await redis.eval(LOAD_LUA, 3, k.meta, k.stock, k.stream, now - 1000, now + 3_600_000, tickets, tickets, CONSUMER_GROUP);
  // What AdmissionGate.load does after the script: the workers drain the sales of this set.
  await redis.sadd('fs:active', id);
  for (let done = 0; done < tickets; done += 2000) {
    const pipe = redis.pipeline();
    for (let i = done; i < Math.min(tickets, done + 2000); i++) {
      const user = users[i % users.length];
      const key = `bench-${i}`;
      pipe.eval(ADMIT_LUA, 5, k.meta, k.stock, k.buyers, k.tickets, k.stream, user, 1, ticketFor(id, user, key), key);
    }
    await pipe.exec();
  }
  return id;
}

async function written(saleId) {
  const [rows] = await c.query('SELECT COUNT(*) AS n FROM flash_tickets WHERE sale_id = ?', [saleId]);
  return Number(rows[0].n);
}

/** Redis bytes of one sale's keys (MEMORY USAGE, all fields sampled). */
async function saleBytes(saleId) {
  let total = 0;
  for (const key of Object.values(saleKeys(saleId))) total += Number((await redis.memory('USAGE', key, 'SAMPLES', 0)) ?? 0);
  return total;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
try {
  console.log(`database ${db.url}: migrating`);
  db.migrate(env);
  const [product] = await c.query(
    "INSERT INTO products (name, description, price_cents, stock) VALUES ('Flash bench tea', '', 5000, 2000000000)",
  );
  const users = await db.seedUsers(USERS);
  const port = await freePort();
  const ratios = [];
  const ownSqlRatios = [];
  for (let round = 1; round <= rounds; round++) {
    const saleId = await queuedSale(product.insertId, users);
    console.log(`round ${round}/${rounds}: ${tickets} admissions queued in sale ${saleId}`);
    const queuedBytes = await saleBytes(saleId);
    const anchor = await batchedInsertRate(db.url);
    const ownSql = await batchSqlRate(db.url);
    const server = await startServer({ env, port, profileDir: args.profile, name: 'flash-worker' });
    const t0 = Date.now();
    while ((await written(saleId)) < tickets && Date.now() - t0 < 600_000) await sleep(50);
    // The rate between the first and the last batch's clock (created_at), so the boot does not count.
    const [[span]] = await c.query(
      `SELECT COUNT(*) AS n, MIN(created_at) AS first, MAX(created_at) AS last,
         SUM(created_at = (SELECT MIN(created_at) FROM flash_tickets WHERE sale_id = ?)) AS firstBatch
       FROM flash_tickets WHERE sale_id = ?`,
      [saleId, saleId],
    );
    const n = Number(span.n);
    const seconds = (span.last - span.first) / 1000;
    const writtenBytes = await saleBytes(saleId);
    await server.stop();
    const rate = (n - Number(span.firstBatch)) / seconds;
    ratios.push(rate / anchor);
    ownSqlRatios.push(rate / ownSql);
    console.log(
      `round ${round}/${rounds}: ${n} tickets written in ${seconds.toFixed(2)} s = ${Math.round(rate)} orders/s; ` +
        `MariaDB batched insert ${Math.round(anchor)} rows/s; ratio ${(rate / anchor).toFixed(2)}; ` +
        `the batch's SQL raw ${Math.round(ownSql)} orders/s (${(ownSql / anchor).toFixed(2)}x the insert), the app ${(rate / ownSql).toFixed(2)}x it; ` +
        `Redis ${Math.round(queuedBytes / tickets)} B/ticket queued, ${Math.round(writtenBytes / tickets)} B/ticket written`,
    );
  }
  console.log(`persistence vs MariaDB batched insert: median ratio ${median(ratios).toFixed(2)} over ${rounds} rounds`);
  console.log(`persistence vs the batch's own SQL run raw: median ratio ${median(ownSqlRatios).toFixed(2)}`);
} finally {
  await c.end();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys.map((key) => key.slice(prefix.length)));
  } while (cursor !== '0');
  redis.disconnect();
  await db.drop();
}
