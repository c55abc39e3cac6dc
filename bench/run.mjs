#!/usr/bin/env node
// `npm run bench`: the project's hot paths beside the shared anchors (bare
// Fastify, Gin) in one run, on the BUILT app pinned to CPU 1 with wrk on CPU 0,
// against local MariaDB (a bench database, migrated and seeded), Redis and a
// fake WeChat. Prints a table, writes bench/results/bench.{json,svg}. Judges nothing.
//
//   node bench/run.mjs [--seconds=5] [--anchor-seconds=8] [--rounds=3] [--scenarios=a,b] [--full]
//                      [--products=10000] [--users=20000] [--profile=dir]
//                      [--flash-parts=admission,persist,all,sale] [--sale-units=100000]
// scenarios: anchors, me, product, list, login, orders, push, throttle, datasize, memory, flash
// --full: one minute of mixed load and 100k users / 1M product ids in the memory scenario.
// env: BENCH_MYSQL_URL (mysql://root@127.0.0.1:3306), BENCH_REDIS_URL, LOG_LEVEL (info)
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { anchorsScript, runAnchors, runOrderTx } from './lib/anchors.mjs';
import { mintSessions, runFlash } from './lib/flash.mjs';
import { createBenchDatabase } from './lib/database.mjs';
import { BENCH_ADMIN_CODE, BENCH_ADMIN_OPENID, BENCH_APPID, startFakeWechat } from './lib/fake-wechat.mjs';
import { median, printTable, summarize, writeResults } from './lib/report.mjs';
import { PUSH_AES_KEY, PUSH_TOKEN, pushRequests, pushScript } from './lib/push.mjs';
import { benchAppEnv, login, startServer } from './lib/server.mjs';
import { benchArgs, dropKeys, ensureTools, freePort, pinSelfToCpu0 } from './lib/tools.mjs';
import { linesScript, ORDERS_WARMUP_S, ordersScript, postCounterScript, randomPathScript, wrk } from './lib/wrk.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(repoRoot);
const require = createRequire(import.meta.url);
const { Redis } = require('ioredis');
const jwt = require('jsonwebtoken');

const ALL = ['anchors', 'me', 'product', 'list', 'login', 'orders', 'push', 'throttle', 'datasize', 'memory', 'flash'];
const args = benchArgs();
const full = args.full === 'true';
const seconds = Number(args.seconds ?? 5);
const anchorSeconds = Number(args['anchor-seconds'] ?? 8);
const rounds = Number(args.rounds ?? 3);
const scenarios = new Set(args.scenarios ? args.scenarios.split(',') : ALL);
const productCount = Number(args.products ?? 10_000);
const wideUsers = Number(args.users ?? (full ? 100_000 : 20_000));
const wideProductIds = full ? 1_000_000 : 100_000;
const flashSaleUnits = Number(args['sale-units'] ?? 100_000);
const mixedSeconds = full ? 60 : 15;
const mysqlUrl = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const API = '/api/v1';

ensureTools();
pinSelfToCpu0();

const rows = [];
const extra = {};
let anchors = null;
const ratio = (rps, name) => (anchors?.[name] ? rps / anchors[name].rps : NaN);
function record(name, r, note) {
  const row = { name, ...r, vsFastify: ratio(r.rps, 'anchor-fastify-hot'), vsGin: ratio(r.rps, 'anchor-gin-hot'), note };
  rows.push(row);
  console.log(`${name}: ${Math.round(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, non-2xx ${r.non2xx}`);
  return row;
}

const wechat = await startFakeWechat({ users: 1000 });
const db = await createBenchDatabase(mysqlUrl, `mp_bench_${process.pid}`);
let txDb;
const prefix = `bench${randomBytes(3).toString('hex')}:`;
const jwtSecret = randomBytes(32).toString('hex');
const env = benchAppEnv({
  databaseUrl: db.url,
  redisUrl,
  wechatUrl: wechat.url,
  jwtSecret,
  REDIS_KEY_PREFIX: prefix,
  THROTTLE_LOGIN_LIMIT: '1000000000',
  THROTTLE_ORDERS_LIMIT: '1000000000',
  // The flash scenario creates its sales as this (fake WeChat) user.
  ADMIN_OPENIDS: BENCH_ADMIN_OPENID,
  // The push scenario's message-push server (safe mode).
  WECHAT_PUSH_TOKEN: PUSH_TOKEN,
  WECHAT_PUSH_AES_KEY: PUSH_AES_KEY,
  WECHAT_SUBSCRIBE_TEMPLATE_ORDER_PAID: 'benchTemplate',
  WECHAT_SUBSCRIBE_FIELDS_ORDER_PAID: 'thing1=productName',
});
const redis = new Redis(redisUrl, { keyPrefix: prefix });
const port = await freePort();
let server;

/** Scenarios that compare or measure memory start on a new server: none inherits the heap of earlier ones. */
async function freshServer(serverEnv) {
  await server.stop();
  server = await startServer({ env: serverEnv, port, profileDir: args.profile });
}


try {
  console.log(`database ${db.url}: migrating, seeding ${productCount} products`);
  db.migrate(env);
  await db.seedProducts(productCount);
  server = await startServer({ env, port, profileDir: args.profile });
  const { base } = server;
  const { accessToken } = await login(base, 'warm-0');
  const bearer = { Authorization: `Bearer ${accessToken}` };

  // The machine's speed drifts (shared host): the anchors and the two hot
  // paths run in alternating rounds, and the table shows each one's median,
  // with ratios as the median of the ratios within each round.
  const hot = [
    scenarios.has('me') && { name: 'GET /users/me (c64)', url: `${base}${API}/users/me`, headers: bearer, note: 'JWT + session + throttle + cached profile' },
    scenarios.has('product') && { name: 'GET /products/7 (c64)', url: `${base}${API}/products/7`, headers: {}, note: 'public, cached, throttled by IP' },
  ].filter(Boolean);
  const anchorRounds = [];
  const hotRounds = hot.map(() => []);
  for (let round = 0; round < rounds && (hot.length > 0 || scenarios.has('anchors')); round++) {
    if (scenarios.has('anchors')) {
      console.log(`round ${round + 1}/${rounds}: anchors (${anchorsScript(repoRoot)} ${anchorSeconds})`);
      const a = await runAnchors(repoRoot, anchorSeconds);
      // Node's own ceiling on this core (node:http, a fixed envelope): how
      // close the hot paths come to what no Node stack can beat.
      const ceiling = await runAnchors(repoRoot, anchorSeconds, 'ceiling');
      if (a || ceiling) anchorRounds.push({ ...a, ...ceiling });
    }
    for (const [i, h] of hot.entries()) {
      const r = await wrk({ url: h.url, seconds, headers: h.headers });
      console.log(`round ${round + 1}/${rounds}: ${h.name}: ${Math.round(r.rps)} req/s, p99 ${r.p99} ms`);
      hotRounds[i].push({ ...r, anchors: anchorRounds.at(-1) });
    }
  }
  if (anchorRounds.length > 0) {
    anchors = {};
    for (const name of Object.keys(anchorRounds[0])) {
      anchors[name] = { rps: median(anchorRounds.map((a) => a[name].rps)), p99: median(anchorRounds.map((a) => a[name].p99)) };
      rows.push({ name, ...anchors[name], p50: NaN, non2xx: 0, anchor: true, rounds: anchorRounds.length });
    }
  }
  for (const [i, h] of hot.entries()) {
    const runs = hotRounds[i];
    const within = (name) => median(runs.map((r) => (r.anchors?.[name] ? r.rps / r.anchors[name].rps : NaN)));
    const row = record(h.name, summarize(runs), `${h.note}; median of ${runs.length}`);
    row.vsFastify = within('anchor-fastify-hot');
    row.vsGin = within('anchor-gin-hot');
    row.vsCeiling = within('anchor-node-ceiling');
    row.rounds = runs.map(({ anchors: _a, ...r }) => r);
  }
  if (scenarios.has('list')) {
    record('GET /products (c64)', await wrk({ url: `${base}${API}/products`, seconds }), '20 items, cached page');
  }
  if (scenarios.has('login')) {
    const script = postCounterScript('{"code":"bench-', '"}');
    record('POST /auth/login (c16)', await wrk({ url: `${base}${API}/auth/login`, seconds, connections: 16, script }), 'fake WeChat on CPU 0, 1000 returning users');
    extra.sessionBytes = await sessionBytes();
  }
  if (scenarios.has('orders')) {
    const script = ordersScript(accessToken);
    // MariaDB's own limit for these statements (the order-tx anchor, the
    // same SQL from 16 raw connections) in alternating rounds with the
    // endpoint: the ratio is the median of each round's ratio. It writes to
    // a twin of the bench database (same server, same migrations): its
    // orders are due at once and its events have no payBefore, so in the
    // app's database the sweeper and the relay would work on them during
    // the measured runs.
    txDb = await createBenchDatabase(mysqlUrl, `mp_bench_${process.pid}_tx`);
    txDb.migrate(env);
    console.log(`warming POST /orders up (${ORDERS_WARMUP_S} s)`);
    await wrk({ url: `${base}${API}/orders`, seconds: ORDERS_WARMUP_S, connections: 16, script, warmupSeconds: 0 });
    const runs = [];
    const limits = [];
    for (let round = 0; round < rounds; round++) {
      const limit = await runOrderTx(repoRoot, txDb.url, seconds);
      if (limit) limits.push(limit['anchor-order-tx'].rps);
      const r = await wrk({ url: `${base}${API}/orders`, seconds, connections: 16, script });
      console.log(`round ${round + 1}/${rounds}: POST /orders: ${Math.round(r.rps)} req/s, order-tx ${Math.round(limit?.['anchor-order-tx'].rps ?? NaN)} tx/s`);
      runs.push({ ...r, limit: limit?.['anchor-order-tx'].rps });
    }
    const orders = record('POST /orders (c16)', summarize(runs), `one user, 100 products, new key each; median of ${runs.length}`);
    orders.rounds = runs;
    if (limits.length > 0) {
      rows.push({ name: 'anchor-order-tx (c16)', rps: median(limits), p50: NaN, p99: NaN, non2xx: 0, anchor: true, rounds: limits.length });
      extra.ordersVsOrderTx = Number(median(runs.map((r) => r.rps / r.limit)).toFixed(2));
      orders.note += `; ${extra.ordersVsOrderTx}x of order-tx (same SQL, raw connections)`;
    }
  }
  if (scenarios.has('push')) {
    // Distinct messages (a repeat is cheaper: nothing inserted), generated just
    // before each run so their timestamps are inside WeChat's 5 minutes; the
    // warm-up gets its own, so the measured run repeats none of them.
    // An API replica (WORKER_MODE=http), as deployed: the consumers' work runs on
    // the workers, not on the core that answers WeChat.
    await freshServer({ ...env, WORKER_MODE: 'http' });
    const path = `${API}/wechat/push`;
    const perRun = Math.max(20_000, seconds * 6000);
    await wrk({ url: `${base}/`, seconds: 2, warmupSeconds: 0, connections: 16, script: pushScript(path, pushRequests({ appId: BENCH_APPID, count: 10_000, tag: 'warm' })) });
    const file = pushRequests({ appId: BENCH_APPID, count: perRun, tag: 'run' });
    const r = await wrk({ url: `${base}/`, seconds, warmupSeconds: 0, connections: 16, script: pushScript(path, file) });
    const n = Number(await db.scalar("SELECT COUNT(*) FROM wechat_push_messages WHERE name = 'subscribe_msg_popup_event'"));
    record('POST /wechat/push safe-mode JSON (c16)', r, `API replica: signature, AES-256-CBC, one row + outbox event per message; ${n} stored; WeChat waits 5 s`);
    await freshServer(env);
  }
  if (scenarios.has('datasize')) {
    await freshServer(env);
    // Steady state: every id is cached once before measuring (misses are the memory scenario's subject).
    await prefetch(base, Array.from({ length: productCount }, (_, i) => `${API}/products/${i + 1}`));
    // Alternating rounds, as for the hot paths: the ratio is the median of each round's ratio.
    const runs = { hot: [], wide: [] };
    for (let round = 0; round < rounds; round++) {
      runs.hot.push(await wrk({ url: `${base}/`, seconds, script: randomPathScript(`${API}/products/`, 100) }));
      runs.wide.push(await wrk({ url: `${base}/`, seconds, script: randomPathScript(`${API}/products/`, productCount) }));
    }
    record('GET /products/:id over 100 ids', summarize(runs.hot), `random ids; median of ${rounds}`);
    const r = record(`GET /products/:id over ${productCount} ids`, summarize(runs.wide), 'random ids');
    extra.dataSizeRatio = median(runs.wide.map((w, i) => w.rps / runs.hot[i].rps));
    r.note = `random ids; median of ${rounds}; ratio to 100 ids ${extra.dataSizeRatio.toFixed(2)}`;
  }
  if (scenarios.has('memory')) {
    await freshServer(env);
    extra.memory = await memory(base, (await login(base, 'warm-0')).accessToken);
  }
  if (scenarios.has('flash')) {
    await server.stop();
    extra.flash = await runFlash({
      repoRoot,
      seconds,
      anchorSeconds,
      rounds,
      env,
      db,
      redis,
      jwtSecret,
      port,
      saleUnits: flashSaleUnits,
      parts: args['flash-parts']?.split(','),
      startServer: (opts) => startServer({ ...opts, profileDir: args.profile }),
      adminToken: async (b) => (await login(b, BENCH_ADMIN_CODE)).accessToken,
      recordFlash(runs, anchorRuns) {
        const flashAnchors = {};
        for (const name of Object.keys(anchorRuns[0] ?? {})) {
          flashAnchors[name] = { rps: median(anchorRuns.map((a) => a[name].rps)), p99: median(anchorRuns.map((a) => a[name].p99)) };
          rows.push({ name, ...flashAnchors[name], p50: NaN, non2xx: 0, anchor: true, rounds: anchorRuns.length });
        }
        const within = (name) => median(runs.map((r) => (r.anchors?.[name] ? r.rps / r.anchors[name].rps : NaN)));
        const row = record('POST /flash-sales/:id/orders (c64)', summarize(runs), `JWT + throttle + one Lua admission, 2000 users; median of ${runs.length}`);
        row.vsFastify = within('anchor-fastify-flash');
        row.vsGin = within('anchor-gin-flash');
        row.rounds = runs.map(({ anchors: _a, ...r }) => r);
      },
    });
    server = await startServer({ env, port, profileDir: args.profile });
  }
  if (scenarios.has('throttle')) {
    // Fresh servers for both sides, alternating rounds: neither side inherits
    // the heap of earlier scenarios or a quieter minute of the machine.
    const runs = { on: [], off: [] };
    for (let round = 0; round < rounds; round++) {
      for (const mode of ['on', 'off']) {
        await freshServer(mode === 'off' ? { ...env, THROTTLE_ENABLED: 'false' } : env);
        runs[mode].push(await wrk({ url: `${base}${API}/users/me`, seconds, headers: bearer }));
      }
    }
    const on = summarize(runs.on);
    const off = summarize(runs.off);
    record(`GET /users/me, throttle on (median ${rounds})`, on);
    const r = record(`GET /users/me, throttle off (median ${rounds})`, off);
    extra.throttleRatio = on.rps / off.rps;
    r.note = `throttled/unthrottled ${extra.throttleRatio.toFixed(2)}`;
  }
} finally {
  await server?.stop();
  await wechat.close();
  await db.drop();
  await txDb?.drop();
  await dropKeys(redis, prefix);
  redis.disconnect();
}

printTable(rows);
for (const [k, v] of Object.entries(extra)) console.log(`${k}: ${JSON.stringify(v)}`);
const result = {
  title: 'wx-mp-backend hot paths vs. anchors (req/s, one core)',
  subtitle: `${new Date().toISOString()} · ${seconds}s per scenario · node ${process.version}`,
  date: new Date().toISOString(),
  seconds,
  full,
  rows,
  ...extra,
};
writeResults(join(repoRoot, 'bench', 'results'), result);
console.log('\nwrote bench/results/bench.json and bench/results/bench.svg');

/** Several wrk runs of one scenario as one row: the median of each figure, non-2xx summed. */
async function prefetch(base, paths, concurrency = 32) {
  let next = 0;
  const worker = async () => {
    while (next < paths.length) await (await fetch(`${base}${paths[next++]}`)).arrayBuffer();
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Bytes per session in Redis: MEMORY USAGE of the session hashes logins created. */
async function sessionBytes() {
  const keys = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}sess:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch.filter((k) => !k.endsWith(':spent') && !k.endsWith(':rev')));
  } while (cursor !== '0' && keys.length < 200);
  const unprefixed = keys.slice(0, 200).map((k) => k.slice(prefix.length));
  const sizes = await Promise.all(unprefixed.map((k) => redis.memory('USAGE', k)));
  const userIndex = await redis.memory('USAGE', 'usess:{1}');
  const avg = sizes.reduce((a, b) => a + Number(b), 0) / Math.max(1, sizes.length);
  return { sampled: sizes.length, avgSessionHashBytes: Math.round(avg), userIndexBytes: Number(userIndex) };
}

/**
 * RSS of a fresh replica: after mixed load, then after `wideUsers` distinct signed-in
 * users and `wideProductIds` distinct product ids (most of them not found, so
 * negatively cached) were requested: the bounded L1 must hold RSS flat.
 */
async function memory(base, token) {
  const out = { idleMb: Math.round(server.rssMb()) };
  const mixed = join(tmpdir(), `bench-mixed-${process.pid}.txt`);
  const lines = [];
  for (let i = 0; i < 200; i++) {
    lines.push(`GET ${API}/users/me ${token}`, `GET ${API}/products/${(i % 100) + 1}`);
    if (i % 10 === 0) lines.push(`GET ${API}/products`);
  }
  writeFileSync(mixed, lines.join('\n'));
  const m = await wrk({ url: `${base}/`, seconds: mixedSeconds, script: linesScript(mixed) });
  record(`mixed load ${mixedSeconds}s`, m, 'me / product / list');
  out.afterMixedMb = Math.round(server.rssMb());
  out.mixedSeconds = mixedSeconds;

  console.log(`memory: ${wideUsers} users (rows, sessions, tokens)`);
  const tokens = await mintSessions({ db, redis, jwtSecret, count: wideUsers, offset: 1000 });
  const tokensFile = join(tmpdir(), `bench-users-${process.pid}.txt`);
  writeFileSync(tokensFile, tokens.map((t) => `GET ${API}/users/me ${t}`).join('\n'));
  const u = await wrk({ url: `${base}/`, seconds: full ? 60 : 20, warmupSeconds: 0, script: linesScript(tokensFile) });
  record(`GET /users/me over ${wideUsers} users`, u, 'first pass: session + profile misses');
  out.afterUsersMb = Math.round(server.rssMb());
  out.users = wideUsers;
  out.userRequests = u.requests;

  const p = await wrk({ url: `${base}/`, seconds: full ? 60 : 20, warmupSeconds: 0, script: randomPathScript(`${API}/products/`, wideProductIds) });
  record(`GET /products/:id over ${wideProductIds} ids`, p, `${productCount} exist; the rest 404 (negative cache)`);
  out.afterProductIdsMb = Math.round(server.rssMb());
  out.productIds = wideProductIds;
  out.productRequests = p.requests;
  const metrics = await (await fetch(`${base}/metrics`)).text();
  out.l1Entries = Number(/^cache_l1_entries\S* (\d+)/m.exec(metrics)?.[1] ?? NaN);
  out.heapUsedMb = Math.round(Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(metrics)?.[1] ?? NaN) / 2 ** 20);
  console.log(`memory: ${JSON.stringify(out)}`);
  return out;
}

