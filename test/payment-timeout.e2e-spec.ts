import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Test } from 'supertest';
import { Transactions } from '../src/infra/transactions/index.js';
import { OrdersService } from '../src/modules/orders/orders.service.js';
import { startEmbeddedTestApp, startTestApp, type TestApp } from './helpers/app.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { baseEnv, uniqueSuffix } from './helpers/env.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';
import { OwnRedisServer } from './helpers/redis-server.js';
import { useStack } from './helpers/stack.js';
import { sleep, until } from './helpers/until.js';

/** Signs in a user and an admin, makes a product and places orders on it. */
function shop(appOf: () => TestApp, wxOf: () => FakeWechat) {
  let admin: LoggedIn;
  let user: LoggedIn;
  const as = (who: LoggedIn, req: Test) => req.set('Authorization', `Bearer ${who.accessToken}`);
  return {
    async setUp() {
      admin = await loginAs(appOf(), wxOf(), { admin: true });
      user = await loginAs(appOf(), wxOf());
    },
    async product(stock: number): Promise<number> {
      const res = await as(admin, appOf().http.post('/api/v1/admin/products')).send({
        name: 'Pu-erh',
        priceCents: 500,
        stock,
      });
      expect(res.status).toBe(201);
      return res.body.data.id as number;
    },
    async place(productId: number, quantity: number, app = appOf()) {
      const res = await as(user, app.http.post('/api/v1/orders'))
        .set('Idempotency-Key', `k-${randomBytes(8).toString('hex')}`)
        .send({ items: [{ productId, quantity }] });
      expect(res.status).toBe(201);
      return res.body.data as { id: number; payBefore: string; createdAt: string };
    },
    async order(id: number, app = appOf()) {
      return (await as(user, app.http.get(`/api/v1/orders/${id}`))).body.data as {
        status: string;
        cancelReason: string | null;
      };
    },
    cancel(id: number, app = appOf()) {
      return as(user, app.http.post(`/api/v1/orders/${id}/cancel`));
    },
    async stock(productId: number): Promise<number> {
      return (await appOf().http.get(`/api/v1/products/${productId}`)).body.data.stock as number;
    },
    /**
     * Orders of the user on `productId` placed as one batch (what the flash
     * persister does, with its one `order.batch-placed` event); the batch
     * writer takes its units elsewhere, so the product's stock is left as it is.
     */
    placeBatch(productId: number, quantities: number[], app = appOf()): Promise<number[]> {
      const orders = app.app.get(OrdersService);
      return app.app.get(Transactions).run((m) =>
        orders.placeBatch(
          m,
          quantities.map((quantity) => ({
            userId: user.user.id,
            idempotencyKey: `b-${randomBytes(8).toString('hex')}`,
            requestHash: 'b'.repeat(64),
            lines: [{ productId, productName: 'Pu-erh', unitPriceCents: 500, quantity }],
          })),
          'flash_sale',
        ),
      );
    },
  };
}

describe('unpaid orders close on time (MariaDB + Redis, BullMQ)', () => {
  const stack = useStack({
    env: {
      LOG_LEVEL: 'warn',
      ADMIN_OPENIDS: 'admin-openid',
      ORDER_PAYMENT_TIMEOUT_S: '1',
      ORDER_SWEEP_INTERVAL_MS: '60000',
    },
  });
  const s = shop(
    () => stack.app,
    () => stack.wx,
  );
  beforeAll(() => s.setUp());

  it('cancels a pending order past payBefore with payment_timeout and returns its stock, by the delayed job', async () => {
    const product = await s.product(5);
    const order = await s.place(product, 2);
    expect(Date.parse(order.payBefore) - Date.parse(order.createdAt)).toBe(1000);
    expect(await s.stock(product)).toBe(3);
    // The sweeper runs once a minute here: what closes it is the job.
    const closed = await until(async () => {
      const o = await s.order(order.id);
      return o.status === 'cancelled' ? o : undefined;
    }, 5000);
    expect(closed.cancelReason).toBe('payment_timeout');
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(order.payBefore));
    // The job drops the cached product after its commit: the order may read
    // cancelled a moment before the product page shows the stock back.
    await until(async () => (await s.stock(product)) === 5 || undefined, 2000);
    const processed = await stack.db.dataSource.query(
      "SELECT p.consumer FROM processed_events p JOIN outbox o ON o.id = p.event_id WHERE o.type = 'order.placed' AND o.aggregate_id = ?",
      [String(order.id)],
    );
    expect(processed).toEqual([{ consumer: 'orders.payment-timeout' }]);
    const events = await stack.db.dataSource.query(
      "SELECT type, payload FROM outbox WHERE aggregate_type = 'order' AND aggregate_id = ? ORDER BY id",
      [String(order.id)],
    );
    expect(events.map((e: { type: string }) => e.type)).toEqual([
      'order.placed',
      'order.cancelled',
    ]);
    expect(JSON.parse(events[1].payload)).toMatchObject({ reason: 'payment_timeout' });
  });

  it("closes a batch's unpaid orders by its one job, each once, and leaves the one the user cancelled", async () => {
    const product = await s.product(10);
    const [first, second, third] = await s.placeBatch(product, [1, 2, 3]);
    expect((await s.cancel(second)).status).toBe(200);
    const closed = await until(async () => {
      const all = await Promise.all([first, third].map((id) => s.order(id)));
      return all.every((o) => o.status === 'cancelled') ? all : undefined;
    }, 5000);
    expect(closed.map((o) => o.cancelReason)).toEqual(['payment_timeout', 'payment_timeout']);
    expect(await s.order(second)).toMatchObject({ status: 'cancelled', cancelReason: 'user' });
    // Each order's units came back once: 2 by the user's cancel, 1 + 3 by the job.
    await until(async () => (await s.stock(product)) === 16 || undefined, 2000);
    const q = (sql: string, params: unknown[]) => stack.db.dataSource.query(sql, params);
    const [batch] = await q(
      "SELECT id, payload FROM outbox WHERE type = 'order.batch-placed' AND aggregate_id = ?",
      [String(first)],
    );
    expect(JSON.parse(batch.payload).orderIds).toEqual([first, second, third]);
    expect(await q('SELECT consumer FROM processed_events WHERE event_id = ?', [batch.id])).toEqual(
      [{ consumer: 'orders.payment-timeout' }],
    );
    const cancelled = await q(
      "SELECT aggregate_id AS order_id, payload FROM outbox WHERE type = 'order.cancelled' AND aggregate_id IN (?, ?, ?) ORDER BY id",
      [String(first), String(second), String(third)],
    );
    expect(
      cancelled.map((e: { order_id: string; payload: string }) => [
        e.order_id,
        JSON.parse(e.payload).reason,
      ]),
    ).toEqual([
      [String(second), 'user'],
      [String(first), 'payment_timeout'],
      [String(third), 'payment_timeout'],
    ]);
    const timeline = await q(
      "SELECT order_id, actor FROM order_events WHERE to_status = 'cancelled' AND order_id IN (?, ?, ?) ORDER BY order_id",
      [first, second, third],
    );
    expect(timeline.map((r: { actor: string }) => r.actor)).toEqual(['timer', 'user', 'timer']);
  });

  it('leaves an order the user cancelled first as it is: stock back once, reason user', async () => {
    const product = await s.product(4);
    const order = await s.place(product, 4);
    expect((await s.cancel(order.id)).status).toBe(200);
    await sleep(1800);
    expect(await s.order(order.id)).toMatchObject({ status: 'cancelled', cancelReason: 'user' });
    expect(await s.stock(product)).toBe(4);
  });
});

describe('timeout racing user cancels: one winner', () => {
  // No worker here: the test itself runs the timeout, concurrently with cancels.
  const stack = useStack({
    env: {
      LOG_LEVEL: 'warn',
      ADMIN_OPENIDS: 'admin-openid',
      ORDER_PAYMENT_TIMEOUT_S: '1',
      WORKER_MODE: 'http',
    },
  });
  const s = shop(
    () => stack.app,
    () => stack.wx,
  );
  beforeAll(() => s.setUp());

  it('of 5 user cancels and 5 timeouts at once exactly one wins and the stock comes back once', async () => {
    const product = await s.product(10);
    const orders = [await s.place(product, 3), await s.place(product, 2)];
    await sleep(1100);
    const service = stack.app.app.get(OrdersService);
    for (const order of orders) {
      const [cancels, expiries] = await Promise.all([
        Promise.all(Array.from({ length: 5 }, () => s.cancel(order.id))),
        Promise.all(Array.from({ length: 5 }, () => service.expire(order.id))),
      ]);
      const wins = cancels.filter((r) => r.status === 200).length + expiries.filter(Boolean).length;
      expect(wins).toBe(1);
      expect(cancels.every((r) => r.status === 200 || r.status === 409)).toBe(true);
      const final = await s.order(order.id);
      expect(final.status).toBe('cancelled');
      expect(final.cancelReason).toBe(expiries.some(Boolean) ? 'payment_timeout' : 'user');
    }
    // A round won by the job drops the cached product after its commit.
    await until(async () => (await s.stock(product)) === 10 || undefined, 2000);
  });

  it('does not expire an order before its payBefore', async () => {
    const product = await s.product(1);
    const order = await s.place(product, 1);
    expect(await stack.app.app.get(OrdersService).expire(order.id)).toBe(false);
    expect((await s.order(order.id)).status).toBe('pending');
  });
});

describe('unpaid orders close with Redis flushed (the sweeper)', () => {
  let redis: OwnRedisServer;
  let db: TestDatabase;
  let wx: FakeWechat;
  let app: TestApp;
  const prefix = `t${uniqueSuffix()}:`;
  const s = shop(
    () => app,
    () => wx,
  );

  beforeAll(async () => {
    redis = await OwnRedisServer.start();
    db = await createTestDatabase();
    wx = await startFakeWechat();
    app = await startTestApp({
      ...baseEnv(db.url, prefix),
      REDIS_URL: redis.url,
      WECHAT_API_BASE_URL: wx.url,
      LOG_LEVEL: 'warn',
      ADMIN_OPENIDS: 'admin-openid',
      ORDER_PAYMENT_TIMEOUT_S: '2',
      ORDER_SWEEP_INTERVAL_MS: '1000',
    });
    await s.setUp();
  });
  afterAll(async () => {
    await app?.close();
    await wx?.close();
    await db?.drop();
    await redis?.down();
  });

  it('closes the order within 5 s of payBefore although its delayed job is gone', async () => {
    const product = await s.product(3);
    const order = await s.place(product, 3);
    // Wait until the relay has handed order.placed to BullMQ, then lose every job.
    await until(async () => {
      const [row] = await db.dataSource.query(
        "SELECT published_at AS p FROM outbox WHERE type = 'order.placed' AND aggregate_id = ?",
        [String(order.id)],
      );
      return row?.p ? true : undefined;
    }, 3000);
    const flusher = new Redis(redis.url);
    await flusher.flushall();
    flusher.disconnect();
    const closed = await until(
      async () => {
        const o = await s.order(order.id);
        return o.status === 'cancelled' ? o : undefined;
      },
      Date.parse(order.payBefore) + 5000 - Date.now(),
    );
    expect(closed.cancelReason).toBe('payment_timeout');
    expect(await s.stock(product)).toBe(3);
    // The job never ran: the sweeper closed it.
    const processed = await db.dataSource.query(
      "SELECT COUNT(*) AS n FROM processed_events WHERE consumer = 'orders.payment-timeout'",
    );
    expect(Number(processed[0].n)).toBe(0);
  });

  it("closes a batch's orders within 5 s of payBefore although the batch's one job is gone", async () => {
    const product = await s.product(5);
    const ids = await s.placeBatch(product, [1, 1]);
    await until(async () => {
      const [row] = await db.dataSource.query(
        "SELECT published_at AS p FROM outbox WHERE type = 'order.batch-placed' AND aggregate_id = ?",
        [String(ids[0])],
      );
      return row?.p ? true : undefined;
    }, 3000);
    const flusher = new Redis(redis.url);
    await flusher.flushall();
    flusher.disconnect();
    // Read from the database: the flush also ended the user's session.
    const rows = () =>
      db.dataSource.query(
        'SELECT status, cancel_reason, pay_before FROM orders WHERE id IN (?, ?) ORDER BY id',
        ids,
      ) as Promise<{ status: string; cancel_reason: string | null; pay_before: Date }[]>;
    const payBefore = new Date((await rows())[0].pay_before).getTime();
    const closed = await until(
      async () => {
        const all = await rows();
        return all.every((o) => o.status === 'cancelled') ? all : undefined;
      },
      payBefore + 5000 - Date.now(),
    );
    expect(closed.map((o) => o.cancel_reason)).toEqual(['payment_timeout', 'payment_timeout']);
    const [{ stock }] = await db.dataSource.query('SELECT stock FROM products WHERE id = ?', [
      product,
    ]);
    expect(Number(stock)).toBe(7);
    const processed = await db.dataSource.query(
      "SELECT COUNT(*) AS n FROM processed_events WHERE consumer = 'orders.payment-timeout'",
    );
    expect(Number(processed[0].n)).toBe(0);
  });
});

describe('unpaid orders close in the embedded mode (in-process queue)', () => {
  let app: TestApp;
  let wx: FakeWechat;
  const s = shop(
    () => app,
    () => wx,
  );
  beforeAll(async () => {
    wx = await startFakeWechat();
    app = await startEmbeddedTestApp({
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      WECHAT_API_BASE_URL: wx.url,
      WECHAT_APPID: 'wx-test-appid',
      WECHAT_SECRET: 'wechat-test-secret-value',
      ADMIN_OPENIDS: 'admin-openid',
      ORDER_PAYMENT_TIMEOUT_S: '1',
      ORDER_SWEEP_INTERVAL_MS: '60000',
    });
    await s.setUp();
  });
  afterAll(async () => {
    await app?.close();
    await wx?.close();
  });

  it('cancels the order by its delayed in-process job and returns the stock', async () => {
    const product = await s.product(2);
    const order = await s.place(product, 2);
    const closed = await until(async () => {
      const o = await s.order(order.id);
      return o.status === 'cancelled' ? o : undefined;
    }, 5000);
    expect(closed.cancelReason).toBe('payment_timeout');
    // The cached product is dropped after the job's commit (see above).
    await until(async () => (await s.stock(product)) === 2 || undefined, 2000);
  });
});
