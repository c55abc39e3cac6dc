#!/usr/bin/env node
// Two (or more) builds of the app side by side on the same fake WeChat, bench
// database and Redis, measured in alternating short rounds: on a host whose
// speed drifts by 2x from one minute to the next, only rounds taken close
// together compare. Prints each round, then per build the median and top-3
// req/s and CPU µs per request, and the median ratio of the second build to
// the first within a round. Judges nothing.
//
//   node bench/ab.mjs --dirs=/tmp/base,. [--paths=me,product,flash,orders] [--rounds=10] [--seconds=2] [--products=100]
//
// `flash` is the buy of a flash sale (POST /flash-sales/:id/orders, c64), one
// sale per build with 50 M units and 2000 signed-in buyers of its own.
// `orders` is POST /orders (c16), one user, one-line orders of the first 100
// products, a new Idempotency-Key each (as `bench/run.mjs --scenarios=orders`).
//
// Each dir is a checkout with `dist/` built and `node_modules` (a symlink to
// this one's will do): e.g. `git archive <commit> | tar -x -C /tmp/base`,
// `cp -r dist /tmp/base/` after building at that commit, `ln -s $PWD/node_modules /tmp/base/`.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { createBenchDatabase } from './lib/database.mjs';
import { BENCH_ADMIN_CODE, BENCH_ADMIN_OPENID, startFakeWechat } from './lib/fake-wechat.mjs';
import { buyersScript, createSale } from './lib/flash.mjs';
import { median } from './lib/report.mjs';
import { benchAppEnv, login, startServer } from './lib/server.mjs';
import { benchArgs, dropKeys, ensureTools } from './lib/tools.mjs';
import { ORDERS_WARMUP_S, ordersScript, wrk } from './lib/wrk.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = benchArgs();
const dirs = (args.dirs ?? '.').split(',').map((d) => resolve(d));
const paths = (args.paths ?? 'me,product').split(',');
const rounds = Number(args.rounds ?? 10);
const seconds = Number(args.seconds ?? 2);
const URLS = { me: '/api/v1/users/me', product: '/api/v1/products/7' };

ensureTools();
process.chdir(repoRoot);
const wechat = await startFakeWechat({ users: 1000 });
const db = await createBenchDatabase(
  process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306',
  `mp_bench_ab_${process.pid}`,
);
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const jwtSecret = randomBytes(32).toString('hex');
const env = benchAppEnv({
  databaseUrl: db.url,
  redisUrl,
  wechatUrl: wechat.url,
  jwtSecret,
  // Each build's flash sale is created as this (fake WeChat) user.
  ADMIN_OPENIDS: BENCH_ADMIN_OPENID,
  THROTTLE_ORDERS_LIMIT: '1000000000',
  // API replicas, as deployed: a flash sale's admissions are not written meanwhile.
  WORKER_MODE: process.env.AB_WORKER_MODE ?? 'http',
});
const prefixes = dirs.map((_, i) => `ab${process.pid}-${i}:`);
const servers = [];
// Script calls Redis has served (the commands a script runs count apart):
// how well a build batches its throttle and admission calls.
const stats = new Redis(redisUrl);
try {
  db.migrate(env);
  await db.seedProducts(Number(args.products ?? 100));
  for (const [i, dir] of dirs.entries()) {
    // startServer runs `dist/src/main.js` of the current directory.
    process.chdir(dir);
    servers.push(await startServer({ env: { ...env, REDIS_KEY_PREFIX: prefixes[i] }, port: 4400 + i, name: dir }));
  }
  process.chdir(repoRoot);
  const headers = [];
  for (const s of servers) headers.push({ Authorization: `Bearer ${(await login(s.base, 'warm-0')).accessToken}` });
  /** Per build, what wrk is given for each path. */
  const targets = servers.map((s, i) => Object.fromEntries(Object.entries(URLS).map(([p, path]) => [p, { url: `${s.base}${path}`, headers: headers[i] }])));
  if (paths.includes('flash')) {
    const c = await createConnection(db.url);
    const [product] = await c.query("INSERT INTO products (name, description, price_cents, stock) VALUES ('Flash ab tea', '', 5000, 2000000000)");
    await c.end();
    for (const [i, s] of servers.entries()) {
      const redis = new Redis(redisUrl, { keyPrefix: prefixes[i] });
      const script = await buyersScript({ db, redis, jwtSecret, count: 2000, offset: 500_000 + i * 2000, name: `ab-flash-${i}` });
      redis.disconnect();
      const sale = await createSale(s.base, (await login(s.base, BENCH_ADMIN_CODE)).accessToken, product.insertId, 50_000_000, 1000);
      targets[i].flash = { url: `${s.base}/api/v1/flash-sales/${sale}/orders`, script };
    }
  }
  if (paths.includes('orders')) {
    for (const [i, s] of servers.entries()) {
      targets[i].orders = { url: `${s.base}/api/v1/orders`, connections: 16, script: ordersScript(headers[i].Authorization.slice('Bearer '.length)) };
    }
  }
  const redisCalls = async () =>
    [...(await stats.info('commandstats')).matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)]
      .filter(([, name]) => name.startsWith('eval'))
      .reduce((sum, m) => sum + Number(m[2]), 0);
  /** User plus system CPU of a process, in µs (clock ticks of 10 ms). */
  const cpuUs = (pid) => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10_000;
  };
  const runs = new Map();
  for (let r = 0; r < rounds; r++) {
    for (const p of paths) {
      // Alternate which build goes first.
      const order = r % 2 === 0 ? [...servers.keys()] : [...servers.keys()].reverse();
      for (const i of order) {
        const s = servers[i];
        const target = targets[i][p];
        // The first round warms each build up (JIT, caches) before its CPU is counted.
        if (r === 0) await wrk({ ...target, seconds: p === 'orders' ? ORDERS_WARMUP_S : 2, warmupSeconds: 0 });
        const before = cpuUs(s.pid);
        const redisBefore = await redisCalls();
        const w = await wrk({ ...target, seconds, warmupSeconds: 0 });
        const usPerRequest = (cpuUs(s.pid) - before) / w.requests;
        // Only this build is under load: the calls Redis served meanwhile are its own.
        const redisPerRequest = ((await redisCalls()) - redisBefore) / w.requests;
        const key = `${p} ${dirs[i]}`;
        if (!runs.has(key)) runs.set(key, []);
        runs.get(key)[r] = { ...w, usPerRequest, redisPerRequest };
        console.log(`round ${r + 1}/${rounds} ${key}: ${Math.round(w.rps)} req/s, p99 ${w.p99} ms, ${usPerRequest.toFixed(1)} µs CPU/request, ${redisPerRequest.toFixed(2)} script calls/request`);
      }
    }
  }
  for (const [key, rs] of runs) {
    const top3 = rs.map((x) => x.rps).sort((a, b) => b - a).slice(0, 3).map(Math.round);
    console.log(`${key}: median ${Math.round(median(rs.map((x) => x.rps)))} req/s (top 3: ${top3.join(', ')}), ${median(rs.map((x) => x.usPerRequest)).toFixed(1)} µs CPU/request, ${median(rs.map((x) => x.redisPerRequest)).toFixed(2)} script calls/request`);
  }
  for (const p of paths) {
    const [a, b] = [runs.get(`${p} ${dirs[0]}`), runs.get(`${p} ${dirs[1]}`)];
    if (!a || !b) continue;
    const ratios = a.map((x, r) => b[r].rps / x.rps);
    console.log(`${p}: ${dirs[1]} / ${dirs[0]} = ${median(ratios).toFixed(2)} (median of rounds: ${ratios.map((x) => x.toFixed(2)).join(' ')})`);
  }
} finally {
  for (const s of servers) await s.stop();
  stats.disconnect();
  for (const prefix of prefixes) {
    const redis = new Redis(redisUrl, { keyPrefix: prefix });
    await dropKeys(redis, prefix);
    redis.disconnect();
  }
  await db.drop();
  await wechat.close();
}
