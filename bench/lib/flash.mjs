// The flash-sale scenario of `npm run bench`: admission (POST
// /flash-sales/:id/orders) beside the shared flash anchors (run.sh … flash),
// persistence (orders/s) beside MariaDB's own batched insert rate, the time
// from the first admission to the last order of a sale, and Redis memory per
// admitted ticket. Figures only; nothing is judged.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { createConnection } from 'mysql2/promise';
import { runAnchors } from './anchors.mjs';
import { median, summarize } from './report.mjs';
import { sleep } from './tools.mjs';
import { wrk } from './wrk.mjs';

const require = createRequire(import.meta.url);
const jwt = require('jsonwebtoken');
const API = '/api/v1';

/** Signed-in users as the auth module makes them (user rows, session hashes, access tokens). */
export async function mintSessions({ db, redis, jwtSecret, count, offset }) {
  const ids = await db.seedUsers(count, offset);
  const now = Date.now();
  const pipe = redis.pipeline();
  const tokens = ids.map((uid) => {
    const sid = randomUUID();
    // The session hash as the auth module writes it at login (see redis-session.store.ts).
    pipe.hset(`sess:{${sid}}`, { uid, role: 'user', dev: '', ca: now, ls: now, sk: 'bench', rt: 'bench' });
    pipe.expire(`sess:{${sid}}`, 3600);
    return jwt.sign({ sid, role: 'user' }, jwtSecret, { algorithm: 'HS256', subject: String(uid), expiresIn: 3600 });
  });
  await pipe.exec();
  return tokens;
}

/** Lua: POST {"quantity":1} as the next user of a token file, with a new Idempotency-Key each time. */
function buyScript(tokensFile) {
  return `local tokens = {}
local n = 0
local run
function init(args)
  for line in io.lines("${tokensFile}") do tokens[#tokens + 1] = line end
  local urandom = io.open("/dev/urandom", "rb")
  run = urandom:read(6):gsub(".", function(c) return string.format("%02x", c:byte()) end)
  urandom:close()
end
request = function()
  n = n + 1
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1]
  headers["Idempotency-Key"] = "b-" .. run .. "-" .. n
  return wrk.format("POST", nil, headers, '{"quantity":1}')
end
`;
}

/**
 * `count` signed-in buyers (mintSessions) and the wrk script that buys as
 * each in turn (buyScript; their tokens in a temporary file named `name`).
 */
export async function buyersScript({ db, redis, jwtSecret, count, offset, name }) {
  const tokens = await mintSessions({ db, redis, jwtSecret, count, offset });
  const file = join(tmpdir(), `${name}-${process.pid}.txt`);
  writeFileSync(file, tokens.join('\n'));
  return buyScript(file);
}

/** A sale of the product on `base`, open from a second ago for an hour; resolves with its id. */
export async function createSale(base, adminToken, productId, stock, perUserLimit) {
  const res = await fetch(`${base}${API}/admin/flash-sales`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({
      productId,
      priceCents: 990,
      stock,
      perUserLimit,
      startsAt: new Date(Date.now() - 1000).toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    }),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`flash sale not created: ${JSON.stringify(body)}`);
  return body.data.id;
}

async function ticketsWritten(c, saleId) {
  const [rows] = await c.query('SELECT COUNT(*) AS n FROM flash_tickets WHERE sale_id = ?', [saleId]);
  return Number(rows[0].n);
}

async function waitWritten(c, saleId, n, timeoutMs) {
  const end = Date.now() + timeoutMs;
  let written = 0;
  while ((written = await ticketsWritten(c, saleId)) < n && Date.now() < end) await sleep(20);
  return written;
}

/**
 * MariaDB's own rate for the rows a batch writes: multi-row INSERTs of
 * order-shaped rows, `rowsPerTx` per transaction, on `connections` connections.
 */
export async function batchedInsertRate(url, { seconds = 3, connections = 16, rowsPerTx = 50 } = {}) {
  const setup = await createConnection(url);
  await setup.query(`CREATE TABLE bench_batched (id INT AUTO_INCREMENT PRIMARY KEY, user_id INT NOT NULL,
    status VARCHAR(16) NOT NULL, total_cents INT NOT NULL, idempotency_key VARCHAR(64) NOT NULL,
    created_at DATETIME(6) NOT NULL, UNIQUE KEY uq (user_id, idempotency_key))`);
  let rows = 0;
  const end = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: connections }, async (_, w) => {
      const c = await createConnection(url);
      for (let batch = 0; Date.now() < end; batch++) {
        const values = Array.from({ length: rowsPerTx }, (_, i) => [w, 'pending', 990, `${batch}-${i}`, new Date()]);
        await c.beginTransaction();
        await c.query('INSERT INTO bench_batched (user_id, status, total_cents, idempotency_key, created_at) VALUES ?', [values]);
        await c.commit();
        rows += rowsPerTx;
      }
      await c.end();
    }),
  );
  const rate = rows / ((Date.now() - started) / 1000);
  await setup.query('DROP TABLE bench_batched');
  await setup.end();
  return rate;
}

/**
 * MariaDB's own rate for the flash batch writer's transaction, in orders a
 * second: the statements `FlashBatchWriter.writeIn` sends (look up the
 * tickets, insert the orders, their lines, their timeline rows, one outbox
 * event and the tickets, take the units off the sale's row), raw on
 * `connections` connections (the persister's batch loops), into empty
 * copies of the app's tables (same columns and indexes). What the app
 * reaches against this is its own overhead; what this reaches against
 * batchedInsertRate is the cost of the schema's four rows an order.
 */
export async function batchSqlRate(url, { seconds = 3, connections = 4, ordersPerTx = 500 } = {}) {
  const tables = ['orders', 'order_items', 'order_events', 'outbox', 'flash_tickets', 'flash_sales'];
  const setup = await createConnection(url);
  const [[{ version }]] = await setup.query('SELECT VERSION() AS version');
  const mariadb = version.includes('MariaDB');
  for (const t of tables) await setup.query(`CREATE TABLE raw_${t} LIKE ${t}`);
  const now = new Date();
  await setup.query(
    `INSERT INTO raw_flash_sales (id, product_id, product_name, price_cents, stock, remaining, per_user_limit, starts_at, ends_at, created_at, updated_at)
     VALUES (1, 1, 'Flash bench tea', 990, 2000000000, 2000000000, 1, ?, ?, ?, ?)`,
    [now, now, now, now],
  );
  let orders = 0;
  let serial = 0;
  const end = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const c = await createConnection({ uri: url, timezone: 'Z' });
      while (Date.now() < end) {
        const at = new Date();
        const batch = Array.from({ length: ordersPerTx }, () => {
          const n = serial++;
          return { user: 1 + (n % 2000), ticket: `raw-${process.pid}-${n}` };
        });
        await c.beginTransaction();
        await c.query('SELECT ticket, status FROM raw_flash_tickets WHERE ticket IN (?)', [batch.map((b) => b.ticket)]);
        const insert = `INSERT INTO raw_orders (user_id, status, total_cents, remark, idempotency_key, request_hash,
          pay_before, cancel_reason, refunded_cents, created_at, updated_at) VALUES ?`;
        const values = [batch.map((b) => [b.user, 'pending', 990, null, b.ticket, 'f'.repeat(64), at, null, 0, at, at])];
        // The ids come back as the app reads them: RETURNING on MariaDB, a
        // SELECT by the unique key on MySQL.
        let rows;
        if (mariadb) {
          [rows] = await c.query(`${insert} RETURNING id, user_id, idempotency_key`, values);
        } else {
          await c.query(insert, values);
          [rows] = await c.query('SELECT id, user_id, idempotency_key FROM raw_orders WHERE user_id IN (?) AND idempotency_key IN (?)', [
            [...new Set(batch.map((b) => b.user))],
            batch.map((b) => b.ticket),
          ]);
        }
        const idOf = new Map(rows.map((r) => [r.idempotency_key, r.id]));
        const id = (i) => idOf.get(batch[i].ticket);
        await c.query('INSERT INTO raw_order_items (order_id, product_id, product_name, unit_price_cents, quantity) VALUES ?', [
          batch.map((_, i) => [id(i), 1, 'Flash bench tea', 990, 1]),
        ]);
        await c.query('INSERT INTO raw_order_events (order_id, from_status, to_status, actor, actor_id, reason, created_at) VALUES ?', [
          batch.map((_, i) => [id(i), null, 'pending', 'flash_sale', null, null, at]),
        ]);
        await c.query(
          'INSERT INTO raw_outbox (type, aggregate_type, aggregate_id, payload, created_at) VALUES (?, ?, ?, ?, ?)',
          ['order.batch-placed', 'order', String(id(0)), JSON.stringify({ orderIds: batch.map((_, i) => id(i)) }), at],
        );
        await c.query(
          `INSERT INTO raw_flash_tickets (ticket, sale_id, user_id, idempotency_key, quantity, status, order_id, reason, created_at) VALUES ?`,
          [batch.map((b, i) => [b.ticket, 1, b.user, b.ticket, 1, 'placed', id(i), null, at])],
        );
        await c.query('UPDATE raw_flash_sales SET remaining = remaining - ? WHERE id = 1 AND remaining - ? >= 0', [
          ordersPerTx,
          ordersPerTx,
        ]);
        await c.commit();
        orders += ordersPerTx;
      }
      await c.end();
    }),
  );
  const rate = orders / ((Date.now() - started) / 1000);
  for (const t of tables) await setup.query(`DROP TABLE raw_${t}`);
  await setup.end();
  return rate;
}

/** The largest RSS of a server, sampled every 100 ms until stop() (which returns it, in MB). */
function rssSampler(server) {
  let max = server.rssMb();
  const timer = setInterval(() => {
    try {
      max = Math.max(max, server.rssMb());
    } catch {
      // the server is stopping
    }
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return Math.round(max);
    },
  };
}

/** Redis bytes of one sale's keys (MEMORY USAGE, all fields sampled). */
async function saleBytes(redis, saleId) {
  const tag = `fs:{fs${saleId}}`;
  let total = 0;
  for (const k of ['m', 'st', 'b', 't', 'r', 's']) total += Number((await redis.memory('USAGE', `${tag}:${k}`, 'SAMPLES', 0)) ?? 0);
  return total;
}

/**
 * opts: { repoRoot, seconds, anchorSeconds, rounds, env, db, redis, jwtSecret, startServer, port, record, adminToken(base), saleUnits }
 * Returns the extra figures; rows go through `record`.
 */
export async function runFlash(o) {
  const out = {};
  const parts = new Set(o.parts ?? ['admission', 'persist', 'all', 'sale']);
  const c = await createConnection(o.db.url);
  try {
    const [product] = await c.query(
      "INSERT INTO products (name, description, price_cents, stock) VALUES ('Flash bench tea', '', 5000, 2000000000)",
    );
    const productId = product.insertId;
    const script = await buyersScript({ db: o.db, redis: o.redis, jwtSecret: o.jwtSecret, count: 2000, offset: 500_000, name: 'bench-flash-tokens' });

    const anchorRuns = [];
    const anchorRound = async (round, label) => {
      const a = await runAnchors(o.repoRoot, o.anchorSeconds, 'flash');
      if (a) anchorRuns.push(a);
      for (const [name, r] of Object.entries(a ?? {})) console.log(`round ${round + 1}/${o.rounds} (${label}): ${name}: ${Math.round(r.rps)} req/s, p99 ${r.p99} ms`);
      return a;
    };
    const withinGin = (runs) => Number(median(runs.map((r) => r.rps / (r.anchors?.['anchor-gin-flash']?.rps ?? NaN))).toFixed(2));
    let server;
    let saleId;
    let admitted = 0;

    // 1. Admission only (WORKER_MODE=http: nothing persists meanwhile), beside the anchors, alternating rounds.
    if (parts.has('admission')) {
      server = await o.startServer({ env: { ...o.env, WORKER_MODE: 'http' }, port: o.port, name: 'flash-http' });
      const admin = await o.adminToken(server.base);
      saleId = await createSale(server.base, admin, productId, 50_000_000, 1000);
      const url = `${server.base}${API}/flash-sales/${saleId}/orders`;
      const runs = [];
      for (let round = 0; round < o.rounds; round++) {
        const a = await anchorRound(round, 'http');
        const r = await wrk({ url, seconds: o.seconds, script });
        console.log(`round ${round + 1}/${o.rounds}: POST /flash-sales/:id/orders: ${Math.round(r.rps)} req/s, p99 ${r.p99} ms, non-2xx ${r.non2xx}; ${(r.rps / (a?.['anchor-gin-flash']?.rps ?? NaN)).toFixed(2)}x Gin`);
        runs.push({ ...r, anchors: a });
      }
      admitted = Number(await o.redis.xlen(`fs:{fs${saleId}}:s`));
      out.redisBytesPerTicketQueued = Math.round((await saleBytes(o.redis, saleId)) / admitted);
      out.admissionVsGin = withinGin(runs);
      out.admissionRssMb = Math.round(server.rssMb());
      await server.stop();
      o.recordFlash(runs, anchorRuns);
      console.log(`flash admission (http): median ${out.admissionVsGin}x Gin flash (median of ${runs.length} rounds' ratios)`);
    }

    // 2. Persistence: a worker writes the queued admissions; MariaDB's own
    // batched rate, and its rate for the batch's own SQL, beside it.
    if (parts.has('persist') && saleId !== undefined) {
      out.dbBatchedRowsPerSecond = Math.round(await batchedInsertRate(o.db.url));
      out.dbBatchSqlOrdersPerSecond = Math.round(await batchSqlRate(o.db.url));
      server = await o.startServer({ env: { ...o.env, WORKER_MODE: 'worker' }, port: o.port, name: 'flash-worker' });
      const t0 = Date.now();
      const written = await waitWritten(c, saleId, admitted, 600_000);
      const secs = (Date.now() - t0) / 1000;
      out.persistence = { tickets: written, seconds: Number(secs.toFixed(2)), ordersPerSecond: Math.round(written / secs) };
      out.persistence.vsDatabase = Number((out.persistence.ordersPerSecond / out.dbBatchedRowsPerSecond).toFixed(2));
      out.persistence.vsBatchSql = Number((out.persistence.ordersPerSecond / out.dbBatchSqlOrdersPerSecond).toFixed(2));
      out.redisBytesPerTicketWritten = Math.round((await saleBytes(o.redis, saleId)) / admitted);
      await server.stop();
    }

    // 3. One all-mode replica admitting while its own worker persists, beside
    // the anchors in alternating rounds; then how long after the crowd stops
    // the last admission is written.
    if (parts.has('all')) {
      server = await o.startServer({ env: { ...o.env, WORKER_MODE: 'all' }, port: o.port, name: 'flash-all' });
      const sale = await createSale(server.base, await o.adminToken(server.base), productId, 50_000_000, 1000);
      const url = `${server.base}${API}/flash-sales/${sale}/orders`;
      const rss = rssSampler(server);
      const runs = [];
      for (let round = 0; round < o.rounds; round++) {
        const a = await anchorRound(round, 'all');
        const r = await wrk({ url, seconds: o.seconds, script });
        // Admitted so far: the tickets hash (the stream is trimmed as it is written).
        const queued = Number(await o.redis.hlen(`fs:{fs${sale}}:t`));
        const written = await ticketsWritten(c, sale);
        console.log(`round ${round + 1}/${o.rounds}: all-mode POST /flash-sales/:id/orders: ${Math.round(r.rps)} req/s, p99 ${r.p99} ms; ${(r.rps / (a?.['anchor-gin-flash']?.rps ?? NaN)).toFixed(2)}x Gin; written ${written} of ${queued}`);
        runs.push({ ...r, anchors: a });
      }
      const stopped = Date.now();
      const total = Number(await o.redis.hlen(`fs:{fs${sale}}:t`));
      const done = await waitWritten(c, sale, total, 300_000);
      const s = summarize(runs);
      out.allMode = {
        rps: Math.round(s.rps),
        p99: s.p99,
        vsGin: withinGin(runs),
        admitted: total,
        written: done,
        lastWrittenAfterCrowdSeconds: Number(((Date.now() - stopped) / 1000).toFixed(2)),
        maxRssMb: rss.stop(),
      };
      console.log(`flash all-mode: ${JSON.stringify(out.allMode)}`);
      await server.stop();
    }

    // 4. A sale of `saleUnits` units on one all-mode replica: first admission
    // to last order written, and the replica's largest RSS meanwhile.
    if (parts.has('sale')) {
      server = await o.startServer({ env: { ...o.env, WORKER_MODE: 'all' }, port: o.port, name: 'flash-all' });
      const units = o.saleUnits;
      const sale2 = await createSale(server.base, await o.adminToken(server.base), productId, units, 1000);
      const rss = rssSampler(server);
      const started = Date.now();
      // The crowd keeps coming until the sale is sold out (at most 5 minutes).
      const stockKey = `fs:{fs${sale2}}:st`;
      let requests = 0;
      while (Number(await o.redis.get(stockKey)) > 0 && Date.now() - started < 300_000) {
        requests += (await wrk({ url: `${server.base}${API}/flash-sales/${sale2}/orders`, seconds: 2, warmupSeconds: 0, script })).requests;
      }
      const soldOut = Date.now();
      const done = await waitWritten(c, sale2, units, 300_000);
      out.sale = {
        units,
        written: done,
        requests,
        // wrk runs in 2 s rounds: the sold-out time is rounded up to one.
        soldOutWithinSeconds: Number(((soldOut - started) / 1000).toFixed(2)),
        firstAdmissionToLastOrderSeconds: Number(((Date.now() - started) / 1000).toFixed(2)),
        lastOrderAfterSoldOutSeconds: Number(((Date.now() - soldOut) / 1000).toFixed(2)),
        maxRssMb: rss.stop(),
      };
      await server.stop();
    }
    console.log(`flash: ${JSON.stringify(out)}`);
    return out;
  } finally {
    await c.end();
  }
}
