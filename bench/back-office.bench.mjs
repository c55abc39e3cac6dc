#!/usr/bin/env node
// `npm run bench:back-office`: the back office's reads on the BUILT app,
// pinned to CPU 1, against a scratch MariaDB database of `--orders` orders
// (1,000,000 by default, one line each, shipments for the shipped ones).
// Prints figures, judges nothing:
// 1. EXPLAIN of the list's queries (status + dates, dates, user, searches);
// 2. GET /admin/orders?status=&from=&to= over `--requests` sequential
//    requests (random one-week windows): p50/p99;
// 3. GET /admin/orders/export of every order line: rows/s and the server's
//    peak RSS (sampled every 50 ms), against its RSS before.
//
//   node bench/back-office.bench.mjs [--orders=1000000] [--requests=2000]
// env: BENCH_MYSQL_URL (mysql://root@127.0.0.1:3306), BENCH_REDIS_URL, LOG_LEVEL (warn)
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConnection } from 'mysql2/promise';
import { createBenchDatabase } from './lib/database.mjs';
import { startFakeWechat } from './lib/fake-wechat.mjs';
import { benchAppEnv, login, startServer } from './lib/server.mjs';
import { benchArgs, freePort } from './lib/tools.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(repoRoot);

const args = benchArgs();
const orders = Number(args.orders ?? 1_000_000);
const requests = Number(args.requests ?? 2000);
const mysqlUrl = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
// One order every 30 s from here: 1M orders span about 347 days.
const EPOCH = Date.UTC(2025, 0, 1);
const STEP_S = 30;

const wechat = await startFakeWechat({ users: 1000 });
const db = await createBenchDatabase(mysqlUrl, `mp_bench_backoffice_${process.pid}`);
const env = benchAppEnv({
  databaseUrl: db.url,
  redisUrl,
  wechatUrl: wechat.url,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  REDIS_KEY_PREFIX: `bench${randomBytes(3).toString('hex')}:`,
  ADMIN_OPENIDS: 'bench-user-0',
});
const percentile = (xs, p) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const iso = (ms) => new Date(ms).toISOString();

let server;
const conn = await createConnection({ uri: db.url, timezone: 'Z', multipleStatements: false });
try {
  db.migrate(env);
  let t = performance.now();
  // The sequence engine makes the rows in the server: one statement per table.
  await conn.query(
    `INSERT INTO orders (user_id, status, total_cents, idempotency_key, request_hash, pay_before,
       refunded_cents, address_name, address_phone, address_province, address_city,
       address_district, address_detail, created_at, updated_at)
     SELECT 1 + seq % 20000,
       ELT(1 + seq % 7, 'pending', 'paid', 'shipped', 'completed', 'cancelled', 'refunding', 'refunded'),
       100 + seq % 9900, CONCAT('bench-', seq), REPEAT('h', 64),
       TIMESTAMPADD(SECOND, seq * ${STEP_S} + 1800, ?), 0,
       CONCAT('Consignee ', seq % 50000), CONCAT('138', LPAD(seq % 100000, 8, '0')),
       'Guangdong', 'Guangzhou', 'Haizhu', CONCAT('No. ', seq, ' Xingang Road'),
       TIMESTAMPADD(SECOND, seq * ${STEP_S}, ?), TIMESTAMPADD(SECOND, seq * ${STEP_S}, ?)
     FROM seq_1_to_${orders}`,
    [new Date(EPOCH), new Date(EPOCH), new Date(EPOCH)],
  );
  await conn.query(
    `INSERT INTO order_items (order_id, product_id, product_name, unit_price_cents, quantity)
     SELECT id, 1 + id % 100, CONCAT('Bench tea ', id % 100), total_cents, 1 FROM orders`,
  );
  await conn.query(
    `INSERT INTO order_shipments (order_id, carrier, tracking_no, shipped_at)
     SELECT id, 'SF', CONCAT('SF', LPAD(id, 10, '0')), created_at FROM orders
     WHERE status IN ('shipped', 'completed')`,
  );
  await conn.query('ANALYZE TABLE orders, order_items, order_shipments');
  console.log(`seeded ${orders} orders in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const week = 7 * 86_400_000;
  const span = orders * STEP_S * 1000;
  const mid = EPOCH + span / 2;
  const columns = 'o.id, o.user_id, o.status, o.total_cents, o.created_at';
  const plans = {
    'status + dates': [
      `SELECT ${columns} FROM orders o WHERE o.status = 'paid' AND o.created_at >= ? AND o.created_at < ? ORDER BY o.created_at DESC, o.id DESC LIMIT 21`,
      [new Date(mid), new Date(mid + week)],
    ],
    'status + dates, next page': [
      `SELECT ${columns} FROM orders o WHERE o.status = 'paid' AND o.created_at >= ? AND o.created_at < ? AND o.created_at <= ? AND (o.created_at < ? OR o.id < ?) ORDER BY o.created_at DESC, o.id DESC LIMIT 21`,
      [new Date(mid), new Date(mid + week), new Date(mid + 3 * 86_400_000), new Date(mid + 3 * 86_400_000), 500_000],
    ],
    'dates only': [
      `SELECT ${columns} FROM orders o WHERE o.created_at >= ? AND o.created_at < ? ORDER BY o.created_at DESC, o.id DESC LIMIT 21`,
      [new Date(mid), new Date(mid + week)],
    ],
    'no filter': [`SELECT ${columns} FROM orders o ORDER BY o.created_at DESC, o.id DESC LIMIT 21`, []],
    user: [
      `SELECT ${columns} FROM orders o WHERE o.user_id = 77 ORDER BY o.created_at DESC, o.id DESC LIMIT 21`,
      [],
    ],
    'search (phone / name / id / tracking ids)': [
      `SELECT ${columns} FROM orders o WHERE (o.address_phone = '13800012345' OR o.address_name = '13800012345' OR o.id IN (12345)) ORDER BY o.created_at DESC, o.id DESC LIMIT 21`,
      [],
    ],
    'tracking number lookup': [
      `SELECT order_id FROM order_shipments WHERE tracking_no = 'SF0000012345' LIMIT 100`,
      [],
    ],
  };
  for (const [name, [sql, params]] of Object.entries(plans)) {
    const [rows] = await conn.query(`EXPLAIN ${sql}`, params);
    console.log(`EXPLAIN ${name}:`);
    for (const r of rows) {
      console.log(
        `  table=${r.table} type=${r.type} key=${r.key} key_len=${r.key_len} rows=${r.rows} extra=${r.Extra ?? ''}`,
      );
    }
  }

  const port = await freePort();
  server = await startServer({ env, port });
  const { base } = server;
  const admin = await login(base, 'bench-admin-0');
  const headers = { Authorization: `Bearer ${admin.accessToken}` };

  const statuses = ['paid', 'shipped', 'completed', 'pending'];
  for (let i = 0; i < 50; i++) await fetch(`${base}/api/v1/admin/orders?status=paid`, { headers }).then((r) => r.arrayBuffer());
  const latencies = [];
  for (let i = 0; i < requests; i++) {
    const from = EPOCH + Math.floor(Math.random() * (span - week));
    const url = `${base}/api/v1/admin/orders?status=${statuses[i % statuses.length]}&from=${iso(from)}&to=${iso(from + week)}&limit=20`;
    const start = performance.now();
    const res = await fetch(url, { headers });
    const body = await res.json();
    latencies.push(performance.now() - start);
    if (body.code !== 0 || body.data.items.length === 0) throw new Error(`list failed: ${JSON.stringify(body).slice(0, 300)}`);
  }
  console.log(
    `GET /admin/orders status + one-week window: ${requests} sequential requests, p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms`,
  );

  const rssBefore = server.rssMb();
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, server.rssMb())), 50);
  t = performance.now();
  const res = await fetch(`${base}/api/v1/admin/orders/export`, { headers });
  if (res.status !== 200) throw new Error(`export failed: ${res.status} ${await res.text()}`);
  let bytes = 0;
  let newlines = 0;
  for await (const chunk of res.body) {
    bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
  }
  const seconds = (performance.now() - t) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, server.rssMb());
  const lines = newlines - 1;
  console.log(
    `GET /admin/orders/export: ${lines} lines (${(bytes / 1e6).toFixed(1)} MB) in ${seconds.toFixed(1)} s = ${Math.round(lines / seconds)} rows/s; server RSS ${rssBefore.toFixed(0)} MB before, peak ${peak.toFixed(0)} MB`,
  );
} finally {
  await server?.stop();
  await conn.end();
  await wechat.close();
  await db.drop();
}
