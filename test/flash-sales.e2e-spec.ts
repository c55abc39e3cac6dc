import { randomBytes } from 'node:crypto';
import type { Test } from 'supertest';
import { Redis } from 'ioredis';
import { FlashBatchWriter } from '../src/modules/flash-sales/flash-batch.writer.js';
import { FlashSettlement } from '../src/modules/flash-sales/flash-settlement.js';
import { FlashSale } from '../src/modules/flash-sales/index.js';
import { saleKeys, ticketFor } from '../src/modules/flash-sales/flash-keys.js';
import type { TestApp } from './helpers/app.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { TEST_REDIS_URL } from './helpers/env.js';
import { useStack } from './helpers/stack.js';
import { sleep, until } from './helpers/until.js';

const ADMIN_OPENID = 'flash-admin';
const API = '/api/v1';

describe('Flash sales on two replicas sharing MariaDB and Redis', () => {
  const stack = useStack({
    apps: 2,
    env: {
      LOG_LEVEL: 'info',
      ADMIN_OPENIDS: ADMIN_OPENID,
      FLASH_BATCH_SIZE: '7',
      FLASH_CLAIM_IDLE_MS: '400',
    },
  });
  let a: TestApp;
  let b: TestApp;
  let admin = '';
  let raw: Redis;

  beforeAll(async () => {
    [a, b] = stack.apps;
    admin = (await loginAs(a, stack.wx, { admin: true })).accessToken;
    raw = new Redis(TEST_REDIS_URL, { keyPrefix: a.config.redis?.keyPrefix });
  });
  afterAll(() => raw?.disconnect());

  const newKey = () => `k-${randomBytes(8).toString('hex')}`;
  const users = (n: number) => Promise.all(Array.from({ length: n }, () => loginAs(a, stack.wx)));
  const query = <T>(sql: string, params: unknown[] = []) =>
    stack.db.dataSource.query(sql, params) as Promise<T>;

  async function newProduct(stock: number): Promise<number> {
    const res = await a.http
      .post(`${API}/admin/products`)
      .set('Authorization', `Bearer ${admin}`)
      .send({ name: 'Longjing', priceCents: 5000, stock });
    expect(res.status).toBe(201);
    return res.body.data.id as number;
  }

  interface SaleOptions {
    stock?: number;
    perUserLimit?: number;
    startsInMs?: number;
    endsInMs?: number;
    productStock?: number;
  }
  async function newSale(o: SaleOptions = {}): Promise<{ id: number; productId: number }> {
    const productId = await newProduct(o.productStock ?? 1000);
    const now = Date.now();
    const res = await a.http
      .post(`${API}/admin/flash-sales`)
      .set('Authorization', `Bearer ${admin}`)
      .send({
        productId,
        priceCents: 990,
        stock: o.stock ?? 10,
        perUserLimit: o.perUserLimit ?? 1,
        startsAt: new Date(now + (o.startsInMs ?? -1000)).toISOString(),
        endsAt: new Date(now + (o.endsInMs ?? 60_000)).toISOString(),
      });
    expect(res.status).toBe(201);
    return { id: res.body.data.id as number, productId };
  }

  const buy = (app: TestApp, user: LoggedIn, saleId: number, key = newKey(), quantity = 1): Test =>
    app.http
      .post(`${API}/flash-sales/${saleId}/orders`)
      .set('Authorization', `Bearer ${user.accessToken}`)
      .set('Idempotency-Key', key)
      .send({ quantity });

  const ticketsOf = (saleId: number) =>
    query<{ ticket: string; status: string; order_id: number | null; reason: string | null }[]>(
      'SELECT ticket, status, order_id, reason FROM flash_tickets WHERE sale_id = ?',
      [saleId],
    );
  const allWritten = (saleId: number, n: number) =>
    until(async () => {
      const rows = await ticketsOf(saleId);
      return rows.length >= n ? rows : undefined;
    }, 15_000);

  it('creates a sale by carving its stock out of the product, and refuses bad input', async () => {
    const productId = await newProduct(30);
    const body = {
      productId,
      priceCents: 100,
      stock: 20,
      perUserLimit: 2,
      startsAt: new Date(Date.now() - 1000).toISOString(),
      endsAt: new Date(Date.now() + 60_000).toISOString(),
    };
    const post = (b: object) =>
      a.http.post(`${API}/admin/flash-sales`).set('Authorization', `Bearer ${admin}`).send(b);
    const backwards = await post({ ...body, endsAt: new Date(Date.now() - 5000).toISOString() });
    expect(backwards.status).toBe(400);
    expect(backwards.body.data.errors[0].field).toBe('endsAt');
    expect((await post({ ...body, startsAt: 'tomorrow' })).status).toBe(400);
    expect((await post({ ...body, productId: 999_999 })).body.data.errors[0].field).toBe(
      'productId',
    );
    const short = await post({ ...body, stock: 31 });
    expect(short.status).toBe(409);
    expect(short.body.code).toBe(40900);
    const created = await post(body);
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({
      productId,
      stock: 20,
      remaining: 20,
      status: 'live',
    });
    const [product] = await query<{ stock: number }[]>('SELECT stock FROM products WHERE id = ?', [
      productId,
    ]);
    expect(product.stock).toBe(10);
    const view = await b.http.get(`${API}/flash-sales/${created.body.data.id}`);
    expect(view.status).toBe(200);
    expect(view.body.data).toMatchObject({
      id: created.body.data.id,
      priceCents: 100,
      perUserLimit: 2,
    });
    const notAdmin = await loginAs(a, stack.wx);
    const refused = await a.http
      .post(`${API}/admin/flash-sales`)
      .set('Authorization', `Bearer ${notAdmin.accessToken}`)
      .send(body);
    expect(refused.status).toBe(403);
  });

  it('never admits more than the stock under concurrent buyers on two replicas, and writes each admission as one order', async () => {
    const sale = await newSale({ stock: 25, perUserLimit: 2 });
    const buyers = await users(40);
    // 40 buyers × 2 requests, half through each replica, all at once.
    const results = await Promise.all(
      buyers.flatMap((u, i) => [buy(i % 2 ? a : b, u, sale.id), buy(i % 2 ? b : a, u, sale.id)]),
    );
    const admitted = results.filter((r) => r.status === 202);
    expect({
      admitted: admitted.length,
      tickets: new Set(admitted.map((r) => r.body.data.ticket)).size,
      inRedis: await raw.hlen(saleKeys(sale.id).tickets),
      left: await raw.get(saleKeys(sale.id).stock),
    }).toEqual({ admitted: 25, tickets: 25, inRedis: 25, left: '0' });
    for (const r of results.filter((r) => r.status !== 202)) {
      expect(r.status).toBe(409);
      expect([40910, 40911]).toContain(r.body.code);
    }
    const rows = await allWritten(sale.id, 25);
    expect(rows.every((r) => r.status === 'placed' && r.order_id !== null)).toBe(true);
    const orders = await query<{ n: number; total: number }[]>(
      `SELECT COUNT(*) AS n, SUM(o.total_cents) AS total FROM orders o
       JOIN flash_tickets t ON t.order_id = o.id WHERE t.sale_id = ? AND o.status = 'pending'`,
      [sale.id],
    );
    expect(Number(orders[0].n)).toBe(25);
    expect(Number(orders[0].total)).toBe(25 * 990);
    const [row] = await query<{ remaining: number }[]>(
      'SELECT remaining FROM flash_sales WHERE id = ?',
      [sale.id],
    );
    expect(row.remaining).toBe(0);
    const ticket = admitted[0].body.data.ticket as string;
    const owner = buyers.find(
      (u) => results.indexOf(admitted[0]) >> 1 === buyers.indexOf(u),
    ) as LoggedIn;
    const status = await a.http
      .get(`${API}/flash-sales/tickets/${ticket}`)
      .set('Authorization', `Bearer ${owner.accessToken}`);
    expect(status.body.data).toMatchObject({ ticket, status: 'placed', reason: null });
    expect(typeof status.body.data.orderId).toBe('number');
    const other = await a.http
      .get(`${API}/flash-sales/tickets/${ticket}`)
      .set('Authorization', `Bearer ${buyers.find((u) => u !== owner)?.accessToken}`);
    expect(other.status).toBe(404);
  });

  it('refuses in the order of precedence: not live, then per-user limit, then sold out', async () => {
    const [first, second] = await users(2);
    const upcoming = await newSale({ startsInMs: 3_600_000, endsInMs: 7_200_000 });
    const early = await buy(a, first, upcoming.id);
    expect([early.status, early.body.code]).toEqual([409, 40912]);

    const sale = await newSale({ stock: 1, perUserLimit: 1 });
    expect((await buy(a, first, sale.id)).status).toBe(202);
    // Sold out and over the limit: the limit wins; only sold out: 40910.
    expect((await buy(a, first, sale.id)).body.code).toBe(40911);
    expect((await buy(a, second, sale.id)).body.code).toBe(40910);
    const overLimit = await buy(a, second, sale.id, newKey(), 2);
    expect(overLimit.body.code).toBe(40911);

    const ending = await newSale({ stock: 5, endsInMs: 600 });
    expect((await buy(b, first, ending.id)).status).toBe(202);
    await sleep(800);
    // Ended and over the limit: 40912 wins.
    expect((await buy(b, first, ending.id)).body.code).toBe(40912);
    expect((await buy(b, second, ending.id)).body.code).toBe(40912);
  });

  it('answers a retry with the same Idempotency-Key with the same ticket, admitting once', async () => {
    const [u] = await users(1);
    const sale = await newSale({ stock: 5, perUserLimit: 3 });
    const key = newKey();
    const replies = await Promise.all([
      buy(a, u, sale.id, key),
      buy(b, u, sale.id, key),
      buy(a, u, sale.id, key),
    ]);
    expect(replies.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(new Set(replies.map((r) => r.body.data.ticket))).toEqual(
      new Set([ticketFor(sale.id, u.user.id, key)]),
    );
    expect(await raw.hget(saleKeys(sale.id).buyers, String(u.user.id))).toBe('1');
    await allWritten(sale.id, 1);
    const again = await buy(b, u, sale.id, key);
    expect(again.body.data.ticket).toBe(replies[0].body.data.ticket);
    expect(await raw.get(saleKeys(sale.id).stock)).toBe('4');
    const bad = await a.http
      .post(`${API}/flash-sales/${sale.id}/orders`)
      .set('Authorization', `Bearer ${u.accessToken}`)
      .send({ quantity: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.data.errors[0].field).toBe('Idempotency-Key');
    expect((await buy(a, u, sale.id, newKey(), 0)).status).toBe(400);
    expect((await buy(a, u, 999_999)).status).toBe(404);
  });

  it('answers a sold-out sale from memory on the other replica, without asking Redis', async () => {
    const [u, v] = await users(2);
    const sale = await newSale({ stock: 1, perUserLimit: 1 });
    const key = newKey();
    expect((await buy(a, u, sale.id, key)).status).toBe(202);
    // Replica b hears "sold out" on the bus and reads the sale's tickets once.
    await sleep(300);
    // Were Redis asked, it would now admit: b's answers come from memory.
    await raw.set(saleKeys(sale.id).stock, 5);
    const before = await fromMemory(b);
    expect((await buy(b, v, sale.id)).body.code).toBe(40910);
    expect((await buy(b, u, sale.id)).body.code).toBe(40911);
    const replay = await buy(b, u, sale.id, key);
    expect([replay.status, replay.body.data.ticket]).toEqual([
      202,
      ticketFor(sale.id, u.user.id, key),
    ]);
    expect((await fromMemory(b)) - before).toBe(2);
    expect(await raw.get(saleKeys(sale.id).stock)).toBe('5');
    await raw.set(saleKeys(sale.id).stock, 0);
  });

  it('writes nothing twice when a batch is replayed', async () => {
    const sale = await newSale({ stock: 6, perUserLimit: 1 });
    const buyers = await users(4);
    await Promise.all(buyers.map((u) => buy(a, u, sale.id)));
    await allWritten(sale.id, 4);
    const entity = await stack.db.dataSource
      .getRepository(FlashSale)
      .findOneByOrFail({ id: sale.id });
    const batch = buyers.map((u, i) => ({
      id: `0-${i + 1}`,
      ticket: ticketFor(sale.id, u.user.id, 'replayed-key'),
      userId: u.user.id,
      quantity: 1,
      key: 'replayed-key',
    }));
    const writer = a.app.get(FlashBatchWriter);
    // Tickets never admitted in Redis, but the replay guarantee is the database's.
    const first = await writer.writeBatch(entity, batch.slice(0, 2));
    expect(first).toEqual({ placed: 2, failed: 0, skipped: 0 });
    const replay = await writer.writeBatch(entity, batch);
    expect(replay).toEqual({ placed: 0, failed: 2, skipped: 2 });
    const [count] = await query<{ n: number }[]>(
      'SELECT COUNT(*) AS n FROM flash_tickets WHERE sale_id = ?',
      [sale.id],
    );
    expect(Number(count.n)).toBe(8);
    const [row] = await query<{ remaining: number }[]>(
      'SELECT remaining FROM flash_sales WHERE id = ?',
      [sale.id],
    );
    expect(row.remaining).toBe(0);
  });

  it('takes over the admissions a killed consumer read but never acknowledged (XAUTOCLAIM)', async () => {
    const sale = await newSale({ stock: 10, perUserLimit: 1, startsInMs: 400 });
    const stream = saleKeys(sale.id).stream;
    await sleep(450);
    const buyers = await users(6);
    // A consumer that reads everything and dies before writing: what kill -9 leaves.
    const dead = new Redis(TEST_REDIS_URL, { keyPrefix: a.config.redis?.keyPrefix });
    const grab = async () => {
      const got = (await dead.xreadgroup(
        'GROUP',
        'persist',
        'dead-worker',
        'COUNT',
        100,
        'STREAMS',
        stream,
        '>',
      )) as [string, [string, string[]][]][] | null;
      return got?.[0]?.[1].length ?? 0;
    };
    let grabbed = 0;
    for (const u of buyers) {
      expect((await buy(a, u, sale.id)).status).toBe(202);
      grabbed += await grab();
    }
    dead.disconnect();
    const rows = await allWritten(sale.id, 6);
    expect(rows.every((r) => r.status === 'placed')).toBe(true);
    expect(grabbed).toBeGreaterThan(0);
    expect(
      a.logs.concat(b.logs).some((l) => /took over \d+ admissions/.test(String(l.message))),
    ).toBe(true);
    // The writer acknowledges right after its commit, so the rows can be read
    // a moment before the acknowledgement lands.
    await until(async () => {
      const pending = (await raw.xpending(stream, 'persist')) as [number, ...unknown[]];
      return Number(pending[0]) === 0;
    }, 5_000);
  });

  it('fails a ticket the database cannot hold, gives its unit back, and says why', async () => {
    const [u, v] = await users(2);
    const sale = await newSale({ stock: 2, perUserLimit: 1, startsInMs: 300 });
    // The database's guard sees one unit fewer than Redis (as if Redis were wrong).
    await query('UPDATE flash_sales SET remaining = 1 WHERE id = ?', [sale.id]);
    await sleep(350);
    const one = await buy(a, u, sale.id);
    const two = await buy(a, v, sale.id);
    const rows = await allWritten(sale.id, 2);
    expect(rows.map((r) => r.status).sort()).toEqual(['failed', 'placed']);
    const failed = rows.find((r) => r.status === 'failed');
    expect(failed?.reason).toBe('sale_stock_exhausted');
    const loser = failed?.ticket === one.body.data.ticket ? u : v;
    const view = await a.http
      .get(`${API}/flash-sales/tickets/${failed?.ticket}`)
      .set('Authorization', `Bearer ${loser.accessToken}`);
    expect(view.body.data).toMatchObject({
      status: 'failed',
      orderId: null,
      reason: 'sale_stock_exhausted',
    });
    expect(await raw.get(saleKeys(sale.id).stock)).toBe('1');
    expect(two.status).toBe(202);
  });

  it('settles an ended sale once: unsold units back to the product, then a reconciliation report', async () => {
    const sale = await newSale({ stock: 10, perUserLimit: 2, endsInMs: 1500, productStock: 50 });
    const buyers = await users(3);
    await Promise.all(buyers.map((u) => buy(a, u, sale.id, newKey(), 2)));
    await allWritten(sale.id, 3);
    await sleep(1600);
    const settlements = [a, b].map((app) => app.app.get(FlashSettlement));
    // Both replicas' sweepers race these two direct calls: the units go back once.
    await Promise.all([settlements[0].settle(sale.id), settlements[1].settle(sale.id)]);
    // A replica's sweeper may have won the race: the direct calls then find
    // the sale settled while the winner, past its commit, still announces the
    // stock, retires the Redis keys and drops the cached sale; it logs last.
    const settledLines = () =>
      a.logs
        .concat(b.logs)
        .filter((l) => String(l.message).startsWith(`flash sale ${sale.id} settled`));
    await until(async () => settledLines().length > 0, 15_000);
    expect(settledLines()).toHaveLength(1);
    const [settled] = await query<{ settled_at: Date | null }[]>(
      'SELECT settled_at FROM flash_sales WHERE id = ?',
      [sale.id],
    );
    expect(settled.settled_at).not.toBeNull();
    const [product] = await query<{ stock: number }[]>('SELECT stock FROM products WHERE id = ?', [
      sale.productId,
    ]);
    expect(product.stock).toBe(50 - 10 + 4);
    const [row] = await query<{ remaining: number; returned_units: number }[]>(
      'SELECT remaining, returned_units FROM flash_sales WHERE id = ?',
      [sale.id],
    );
    expect(row).toMatchObject({ remaining: 0, returned_units: 4 });
    const report = await settlements[0].reconcile(sale.id);
    expect(report).toMatchObject({
      redisAdmittedUnits: 6,
      placedUnits: 6,
      difference: 0,
      missingInDatabase: 0,
    });
    const view = await a.http.get(`${API}/flash-sales/${sale.id}`);
    expect(view.body.data).toMatchObject({ status: 'ended', remaining: 0 });

    // A ticket Redis admitted that never reached the database: reported, logged, counted.
    await raw.hset(saleKeys(sale.id).tickets, `${sale.id}-lostlostlostlostlostlo`, '1:1');
    const mismatch = await settlements[0].reconcile(sale.id);
    expect(mismatch).toMatchObject({
      redisAdmittedUnits: 7,
      placedUnits: 6,
      difference: 1,
      missingInDatabase: 1,
    });
    expect(
      a.logs.concat(b.logs).some((l) => /reconciliation mismatch/.test(String(l.message))),
    ).toBe(true);
    const metrics = await a.http.get('/metrics');
    expect(metrics.text).toMatch(/^flash_reconcile_mismatches_total [1-9]/m);
  });

  async function fromMemory(app: TestApp): Promise<number> {
    const text = (await app.http.get('/metrics')).text;
    return Number(/^flash_admissions_total\{result="from_memory"\} (\d+)/m.exec(text)?.[1] ?? 0);
  }
});

describe('Flash-sale orders then follow the ordinary order lifecycle', () => {
  const stack = useStack({
    env: { LOG_LEVEL: 'warn', ADMIN_OPENIDS: ADMIN_OPENID, ORDER_PAYMENT_TIMEOUT_S: '1' },
  });

  it('writes each order with payBefore and its batch event, and an unpaid one times out with its units back to the product', async () => {
    const t = stack.app;
    const admin = (await loginAs(t, stack.wx, { admin: true })).accessToken;
    const product = await t.http
      .post(`${API}/admin/products`)
      .set('Authorization', `Bearer ${admin}`)
      .send({ name: 'Pu-erh', priceCents: 8000, stock: 10 });
    const productId = product.body.data.id as number;
    const sale = await t.http
      .post(`${API}/admin/flash-sales`)
      .set('Authorization', `Bearer ${admin}`)
      .send({
        productId,
        priceCents: 4000,
        stock: 4,
        perUserLimit: 2,
        startsAt: new Date(Date.now() - 1000).toISOString(),
        endsAt: new Date(Date.now() + 60_000).toISOString(),
      });
    const buyer = await loginAs(t, stack.wx);
    const admitted = await t.http
      .post(`${API}/flash-sales/${sale.body.data.id}/orders`)
      .set('Authorization', `Bearer ${buyer.accessToken}`)
      .set('Idempotency-Key', 'lifecycle-key-1')
      .send({ quantity: 2 });
    expect(admitted.status).toBe(202);
    const ticket = admitted.body.data.ticket as string;
    const readTicket = () =>
      t.http
        .get(`${API}/flash-sales/tickets/${ticket}`)
        .set('Authorization', `Bearer ${buyer.accessToken}`);
    let orderId: number | null = null;
    for (let i = 0; i < 200 && orderId === null; i++) {
      orderId = (await readTicket()).body.data.orderId as number | null;
      if (orderId === null) await sleep(25);
    }
    expect(orderId).not.toBeNull();
    const order = await t.http
      .get(`${API}/orders/${orderId}`)
      .set('Authorization', `Bearer ${buyer.accessToken}`);
    expect(order.body.data).toMatchObject({
      totalCents: 8000,
      items: [{ productId, quantity: 2, unitPriceCents: 4000 }],
    });
    const placedAt = new Date(order.body.data.createdAt as string).getTime();
    expect(new Date(order.body.data.payBefore as string).getTime() - placedAt).toBe(1000);
    // The batch's one event (not an order.placed per order) names the order
    // and its payBefore: the payment timeout's job closes it.
    const events = (await stack.db.dataSource.query(
      "SELECT type, payload FROM outbox WHERE type IN ('order.placed', 'order.batch-placed')",
    )) as { type: string; payload: string }[];
    const mine = events.filter((e) =>
      (JSON.parse(e.payload) as { orderIds?: number[] }).orderIds?.includes(orderId as number),
    );
    expect(mine).toHaveLength(1);
    expect(events.filter((e) => e.type === 'order.placed')).toHaveLength(0);
    expect(JSON.parse(mine[0].payload)).toEqual({
      orderIds: [orderId],
      payBefore: order.body.data.payBefore,
    });
    // Not paid by payBefore: cancelled by the timeout, the units go back to the
    // product (docs/http-api.md).
    let status = '';
    for (let i = 0; i < 200 && status !== 'cancelled'; i++) {
      await sleep(50);
      const again = await t.http
        .get(`${API}/orders/${orderId}`)
        .set('Authorization', `Bearer ${buyer.accessToken}`);
      status = again.body.data.status as string;
      if (status === 'cancelled') expect(again.body.data.cancelReason).toBe('payment_timeout');
    }
    expect(status).toBe('cancelled');
    const [row] = (await stack.db.dataSource.query('SELECT stock FROM products WHERE id = ?', [
      productId,
    ])) as { stock: number }[];
    expect(row.stock).toBe(10 - 4 + 2);
    // Its timeline: placed by the flash sale, cancelled by the timer.
    const timeline = (await stack.db.dataSource.query(
      'SELECT from_status, to_status, actor FROM order_events WHERE order_id = ? ORDER BY id',
      [orderId],
    )) as { from_status: string | null; to_status: string; actor: string }[];
    expect(timeline).toEqual([
      { from_status: null, to_status: 'pending', actor: 'flash_sale' },
      { from_status: 'pending', to_status: 'cancelled', actor: 'timer' },
    ]);
  });
});
