#!/usr/bin/env node
// WeChat Pay benchmarks (print figures, judge nothing), on the BUILT app
// pinned to CPU 1, with this process (fake WeChat Pay, load) on CPU 0:
//  1. notifications applied per second: signed + encrypted TRANSACTION.SUCCESS
//     notifications, one per pending order, posted 16 at a time; each is
//     verified over its raw bytes, decrypted and applied in one transaction;
//  2. p50/p99 of POST /orders/:id/payment under wrk (the first call of an order
//     prepays at the fake WeChat Pay, later ones reuse the prepay).
//
//   node bench/payments.bench.mjs [--orders=2000] [--seconds=5] [--connections=16]
// env: BENCH_MYSQL_URL (mysql://root@127.0.0.1:3306), BENCH_REDIS_URL
import {
  createCipheriv,
  createSign,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConnection } from 'mysql2/promise';
import { createBenchDatabase } from './lib/database.mjs';
import { startServer } from './lib/server.mjs';
import { benchArgs, ensureTools, freePort, pinSelfToCpu0 } from './lib/tools.mjs';
import { linesScript, wrk } from './lib/wrk.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(repoRoot);
const require = createRequire(import.meta.url);
const { Redis } = require('ioredis');
const jwt = require('jsonwebtoken');

const args = benchArgs();
const ORDERS = Number(args.orders ?? 2000);
const SECONDS = Number(args.seconds ?? 5);
const CONNECTIONS = Number(args.connections ?? 16);
const mysqlUrl = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const APPID = 'wx-bench-appid';
const MCHID = '1900000109';
const PREFIX = `benchpay${process.pid}:`;
const JWT_SECRET = randomBytes(32).toString('hex');

ensureTools();
pinSelfToCpu0();

// WeChat Pay's side, generated per run.
const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
const apiV3Key = randomBytes(16).toString('hex');
const publicKeyId = `PUB_KEY_ID_0114${randomBytes(8).toString('hex').toUpperCase()}`;
const dir = mkdtempSync(join(tmpdir(), 'bench-pay-'));
writeFileSync(join(dir, 'key.pem'), merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }));
writeFileSync(join(dir, 'pub.pem'), platform.publicKey.export({ type: 'spki', format: 'pem' }));

function signed(body) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(16).toString('hex');
  const signature = createSign('RSA-SHA256')
    .update(`${timestamp}\n${nonce}\n${body}\n`)
    .sign(platform.privateKey, 'base64');
  return {
    'wechatpay-timestamp': timestamp,
    'wechatpay-nonce': nonce,
    'wechatpay-signature': signature,
    'wechatpay-serial': publicKeyId,
  };
}

function notification(orderId, total) {
  const outTradeNo = `MP${String(orderId).padStart(10, '0')}`;
  const resource = JSON.stringify({
    appid: APPID,
    mchid: MCHID,
    out_trade_no: outTradeNo,
    transaction_id: `4200${orderId}`,
    trade_state: 'SUCCESS',
    success_time: new Date().toISOString(),
    amount: { total, payer_total: total, currency: 'CNY' },
  });
  const iv = randomBytes(6).toString('hex');
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(apiV3Key), Buffer.from(iv));
  cipher.setAAD(Buffer.from('transaction'));
  const ciphertext = Buffer.concat([cipher.update(resource), cipher.final(), cipher.getAuthTag()]);
  const body = JSON.stringify({
    id: `EV-${orderId}`,
    event_type: 'TRANSACTION.SUCCESS',
    resource_type: 'encrypt-resource',
    resource: {
      original_type: 'transaction',
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: ciphertext.toString('base64'),
      associated_data: 'transaction',
      nonce: iv,
    },
  });
  return { body, headers: { 'content-type': 'application/json', ...signed(body) } };
}

// A minimal WeChat Pay: answers prepays, signed (the app verifies every answer).
let prepays = 0;
const fake = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    prepays++;
    const body = JSON.stringify({ prepay_id: `wx${Date.now()}${prepays}` });
    res.writeHead(200, { 'content-type': 'application/json', ...signed(body) });
    res.end(body);
  });
});
await new Promise((r) => fake.listen(0, '127.0.0.1', r));
const fakeUrl = `http://127.0.0.1:${fake.address().port}`;

const db = await createBenchDatabase(mysqlUrl, `bench_pay_${process.pid}`);
const env = {
  ...process.env,
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  DATABASE_URL: db.url,
  REDIS_URL: redisUrl,
  REDIS_KEY_PREFIX: PREFIX,
  JWT_SECRET,
  WECHAT_APPID: APPID,
  WECHAT_SECRET: 'bench-secret',
  THROTTLE_ENABLED: 'false',
  WORKER_MODE: 'http',
  WECHAT_PAY_MCHID: MCHID,
  WECHAT_PAY_MERCHANT_SERIAL: 'BENCHSERIAL',
  WECHAT_PAY_PRIVATE_KEY_FILE: join(dir, 'key.pem'),
  WECHAT_PAY_APIV3_KEY: apiV3Key,
  WECHAT_PAY_PUBLIC_KEY_FILE: join(dir, 'pub.pem'),
  WECHAT_PAY_PUBLIC_KEY_ID: publicKeyId,
  WECHAT_PAY_NOTIFY_URL: 'https://bench.example.com/api/v1/payments/wechat/notify',
  WECHAT_PAY_API_BASE_URL: fakeUrl,
};
db.migrate(env);
const userIds = await db.seedUsers(200);
await db.seedProducts(1);

/** `count` pending orders of 1000 cents, round-robin over the users; their ids. */
async function seedOrders(count) {
  const c = await createConnection(db.url);
  const payBefore = new Date(Date.now() + 3600_000);
  const rows = [];
  for (let i = 0; i < count; i++) {
    rows.push([userIds[i % userIds.length], 'pending', 1000, randomUUID(), 'h', payBefore]);
  }
  await c.query(
    'INSERT INTO orders (user_id, status, total_cents, idempotency_key, request_hash, pay_before) VALUES ?',
    [rows],
  );
  const [ids] = await c.query(
    "SELECT o.id, o.user_id FROM orders o LEFT JOIN order_payments p ON p.order_id = o.id WHERE o.status = 'pending' AND p.order_id IS NULL ORDER BY o.id",
  );
  await c.end();
  return ids;
}

const port = await freePort();
const server = await startServer({ env, port, name: 'app' });
const base = `http://127.0.0.1:${port}`;
try {
  // 1. Notifications applied per second, on orders prepaid as a real prepay leaves them.
  const orders = await seedOrders(ORDERS);
  const seed = await createConnection(db.url);
  await seed.query('INSERT INTO order_payments (order_id, out_trade_no, prepay_id, prepay_expires_at) VALUES ?', [
    orders.map((o) => [o.id, `MP${String(o.id).padStart(10, '0')}`, `wx-prepay-${o.id}`, new Date(Date.now() + 3600_000)]),
  ]);
  await seed.end();
  const batch = orders.map((o) => notification(o.id, 1000));
  let next = 0;
  let failed = 0;
  const failures = new Map();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < batch.length) {
        const n = batch[next++];
        const res = await fetch(`${base}/api/v1/payments/wechat/notify`, {
          method: 'POST',
          headers: n.headers,
          body: n.body,
        });
        const text = await res.text();
        if (res.status !== 204) {
          failed++;
          const why = `${res.status} ${text.slice(0, 80)}`;
          failures.set(why, (failures.get(why) ?? 0) + 1);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const c = await createConnection(db.url);
  const [[paid]] = await c.query("SELECT COUNT(*) AS n FROM orders WHERE status = 'paid'");
  await c.end();
  console.log(
    `notifications: ${batch.length} in ${seconds.toFixed(2)} s = ${Math.round(batch.length / seconds)}/s ` +
      `(c${CONNECTIONS}, ${failed} not 204, ${paid.n} orders paid)`,
  );
  for (const [why, n] of failures) console.log(`  not 204: ${n} x ${why}`);

  // 2. POST /orders/:id/payment: sessions as the auth module writes them, one line per order.
  const payOrders = await seedOrders(ORDERS);
  const redis = new Redis(redisUrl, { keyPrefix: PREFIX });
  const now = Date.now();
  const pipe = redis.pipeline();
  const tokens = new Map();
  for (const uid of userIds) {
    const sid = randomUUID();
    pipe.hset(`sess:{${sid}}`, { uid, role: 'user', dev: '', ca: now, ls: now, sk: 'bench', rt: 'bench' });
    pipe.expire(`sess:{${sid}}`, 3600);
    tokens.set(
      uid,
      jwt.sign({ sid, role: 'user' }, JWT_SECRET, { algorithm: 'HS256', subject: String(uid), expiresIn: 3600 }),
    );
  }
  await pipe.exec();
  const linesFile = join(dir, 'pay-lines.txt');
  writeFileSync(
    linesFile,
    payOrders.map((o) => `POST /api/v1/orders/${o.id}/payment ${tokens.get(o.user_id)}`).join('\n'),
  );
  const before = prepays;
  const r = await wrk({ url: `${base}/`, seconds: SECONDS, connections: CONNECTIONS, warmupSeconds: 0, script: linesScript(linesFile) });
  console.log(
    `POST /orders/:id/payment: ${Math.round(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms ` +
      `(c${CONNECTIONS}, ${r.requests} requests, ${r.non2xx} non-2xx, ${prepays - before} prepays at the fake, the rest reused)`,
  );
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await new Redis(redisUrl).del(...keys);
  redis.disconnect();
} finally {
  await server.stop();
  fake.close();
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
}
