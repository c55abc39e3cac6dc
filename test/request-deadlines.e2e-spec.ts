import { createConnection, type Connection } from 'mysql2/promise';
import { startTestApp, type TestApp } from './helpers/app.js';
import { bearer, createProduct, expect503, type Answer } from './helpers/answers.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, TEST_MYSQL_URL, uniqueSuffix } from './helpers/env.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';
import { OwnRedisServer } from './helpers/redis-server.js';
import { useStack } from './helpers/stack.js';
import { sleep } from './helpers/until.js';

// Budgets of 300 ms; an answer counts as "near its budget" between these
// (generous for a loaded 2-core machine: the point is that it is not the
// 50 s lock-wait default nor a 5 s upstream timeout).
const BUDGET_MS = 300;
const NEAR = { min: 250, max: 1500 };
const product = { name: 'Pu-erh', description: '', priceCents: 900, stock: 20 };

async function timed<T>(send: () => PromiseLike<T>): Promise<{ res: T; ms: number }> {
  const started = performance.now();
  const res = await send();
  return { res, ms: performance.now() - started };
}

function expectBudgetSpent(res: Answer, ms: number): void {
  expect503(res);
  expect(ms).toBeGreaterThanOrEqual(NEAR.min);
  expect(ms).toBeLessThanOrEqual(NEAR.max);
}

describe('POST /orders behind a row lock ends near its budget, and writes nothing', () => {
  const stack = useStack({
    env: { ADMIN_OPENIDS: 'deadline-admin', REQUEST_BUDGET_ORDERS_MS: String(BUDGET_MS) },
  });
  let holder: Connection | undefined;

  afterAll(async () => {
    await holder?.end();
  });

  it('answers 503/50300 with Retry-After; the server stops waiting; stock and orders unchanged; others unaffected', async () => {
    const admin = await loginAs(stack.app, stack.wx, { admin: true });
    const buyer = await loginAs(stack.app, stack.wx);
    const other = await loginAs(stack.app, stack.wx);
    const order = (u: LoggedIn, productId: number, idempotencyKey: string) =>
      stack.app.http
        .post('/api/v1/orders')
        .set(...bearer(u))
        .set('Idempotency-Key', idempotencyKey)
        .send({ items: [{ productId, quantity: 2 }] });
    const locked = await createProduct(stack.app, admin, product);
    const free = await createProduct(stack.app, admin, product);
    // A first order warms the path up: the budget is for the lock, not for a cold start.
    expect((await order(other, free, `deadline-warm-${uniqueSuffix()}`)).status).toBe(201);
    holder = await createConnection(`${TEST_MYSQL_URL.replace(/\/+$/, '')}/${stack.db.name}`);
    await holder.query('START TRANSACTION');
    await holder.query('SELECT stock FROM products WHERE id = ? FOR UPDATE', [locked]);

    const key = `deadline-${uniqueSuffix()}`;
    const [stuck, meanwhile] = await Promise.all([
      timed(() => order(buyer, locked, key)),
      // Another client's order, on a row nobody locks, while the first one waits.
      timed(() => order(other, free, `deadline-other-${uniqueSuffix()}`)),
    ]);
    expectBudgetSpent(stuck.res, stuck.ms);
    expect(meanwhile.res.status).toBe(201);

    // max_statement_time interrupted the statement on the server: no
    // transaction of the app is left waiting for the lock the test still holds.
    const [waiting] = await holder.query(
      `SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX t
         JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
        WHERE p.DB = ? AND p.ID <> CONNECTION_ID()`,
      [stack.db.name],
    );
    expect((waiting as { n: number }[])[0].n).toBe(0);
    await holder.query('ROLLBACK');

    const [row] = await stack.db.dataSource.query<{ stock: number }[]>(
      'SELECT stock FROM products WHERE id = ?',
      [locked],
    );
    expect(row.stock).toBe(product.stock);
    const orders = await stack.db.dataSource.query<unknown[]>(
      'SELECT id FROM orders WHERE user_id = ?',
      [buyer.user.id],
    );
    expect(orders).toEqual([]);
    // Nothing half-written under the key either: once the lock is gone the same key places the order.
    const retried = await order(buyer, locked, key);
    expect(retried.status).toBe(201);
    expect(stack.app.logs.some((l) => l.msg === 'unexpected error')).toBe(false);
  });
});

describe('login waiting for a slow WeChat ends near its budget; the breaker stays closed', () => {
  const stack = useStack({ env: { REQUEST_BUDGET_WECHAT_MS: String(BUDGET_MS) } });

  it('answers 503/50300 each time, and WeChat answering again logs in at once', async () => {
    stack.wx.delayMs = 2000;
    // More than the breaker's failure threshold (5): were a budget abort a
    // failure, the circuit would now be open.
    for (let i = 0; i < 6; i++) {
      const { code } = stack.wx.issueCode();
      const { res, ms } = await timed(() =>
        stack.app.http.post('/api/v1/auth/login').send({ code }),
      );
      expectBudgetSpent(res, ms);
    }
    const metrics = await stack.app.http.get('/metrics');
    expect(metrics.text).toMatch(/wechat_circuit_breaker_state\{api="code2session"\} 0/);

    stack.wx.delayMs = 0;
    const { code } = stack.wx.issueCode();
    const res = await stack.app.http.post('/api/v1/auth/login').send({ code });
    expect(res.status).toBe(200);
  });
});

describe('a frozen Redis: a request still ends within its budget', () => {
  let redis: OwnRedisServer;
  let db: TestDatabase;
  let wx: FakeWechat;
  let t: TestApp;

  beforeAll(async () => {
    redis = await OwnRedisServer.start();
    db = await createTestDatabase();
    wx = await startFakeWechat();
    t = await startTestApp({
      ...baseEnv(db.url, 'deadlines:'),
      REDIS_URL: redis.url,
      WECHAT_API_BASE_URL: wx.url,
      REQUEST_BUDGET_MS: String(BUDGET_MS),
      // Longer than the budget: the budget, not ioredis, ends the first request.
      REDIS_COMMAND_TIMEOUT_MS: '2000',
    });
  });
  afterAll(async () => {
    redis?.thaw();
    await t?.close();
    await redis?.down();
    await wx?.close();
    await db?.drop();
  });

  it('the first request ends at its budget; once ioredis times out the gate shuts and others are served', async () => {
    const first = await loginAs(t, wx);
    const second = await loginAs(t, wx);
    const me = (u: LoggedIn) => t.http.get('/api/v1/users/me').set(...bearer(u));
    // The second client's session is seen live before the stall (the session
    // store's outage rule admits only those).
    expect((await me(second)).status).toBe(200);
    redis.freeze();

    const stuck = await timed(() => me(first));
    expectBudgetSpent(stuck.res, stuck.ms);

    // The command the budget gave up on times out in ioredis (2 s after it
    // was sent): that shuts the RedisGate, and the fallbacks serve requests at once.
    await sleep(2000);
    const served = await timed(() => me(second));
    expect(served.res.status).toBe(200);
    expect(served.ms).toBeLessThan(BUDGET_MS);
  });
});
