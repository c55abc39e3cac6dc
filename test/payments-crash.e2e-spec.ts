import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConnection } from 'mysql2/promise';
import { freePort } from '../scripts/free-port.mjs';
import { outTradeNoOf } from '../src/modules/payments/trade-numbers.js';
import { addressIdOf } from './helpers/addresses.js';
import { loginAs } from './helpers/auth.js';
import { baseEnv, uniqueSuffix } from './helpers/env.js';
import { startFakeWechatPay, type FakeWechatPay } from './helpers/fake-wechat-pay.js';
import { useStack } from './helpers/stack.js';

const main = new URL('../dist/src/main.js', import.meta.url).pathname;

/**
 * kill -9 of the replica while it applies a notification: its transaction
 * dies with its connection, nothing is half-written, and WeChat Pay's retry
 * (to another replica) applies the payment once.
 */
describe('a replica killed while applying a payment notification', () => {
  let pay: FakeWechatPay;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    if (!existsSync(main)) throw new Error('run `npm run build` first (npm test does it)');
    pay = await startFakeWechatPay();
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await pay.close();
  });
  const stack = useStack({
    env: () => ({ ...pay.env(), LOG_LEVEL: 'warn', ADMIN_OPENIDS: 'crash-admin' }),
  });

  it("leaves the order pending, and WeChat Pay's retry completes it exactly once", async () => {
    const { app, db, wx } = stack;
    const q = (sql: string, params: unknown[] = []) =>
      db.dataSource.query(sql, params) as Promise<Record<string, unknown>[]>;
    const admin = await loginAs(app, wx, { admin: true });
    const user = await loginAs(app, wx);
    const product = await app.http
      .post('/api/v1/admin/products')
      .set('Authorization', `Bearer ${admin.accessToken}`)
      .send({ name: 'Tea', priceCents: 500, stock: 5 });
    const placed = await app.http
      .post('/api/v1/orders')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .set('Idempotency-Key', `crash-${randomBytes(6).toString('hex')}`)
      .send({
        items: [{ productId: product.body.data.id, quantity: 1 }],
        addressId: await addressIdOf(app, user),
      });
    const orderId = placed.body.data.id as number;
    const prepay = await app.http
      .post(`/api/v1/orders/${orderId}/payment`)
      .set('Authorization', `Bearer ${user.accessToken}`);
    expect(prepay.status).toBe(200);
    pay.pay(outTradeNoOf(orderId));
    const notification = pay.transactionNotification(outTradeNoOf(orderId));

    const port = await freePort();
    let output = '';
    child = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        ...baseEnv(db.url, `t${uniqueSuffix()}:`),
        ...pay.env(),
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        PORT: String(port),
        WORKER_MODE: 'http',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const ready = await fetch(`${url}/health/ready`).then(
        async (r) => `${r.status} ${await r.text()}`,
        (e: unknown) => String(e),
      );
      if (ready.startsWith('200')) break;
      if (i > 300) throw new Error(`replica did not become ready (${ready}):\n${output}`);
      await sleep(200);
    }

    // Hold the payment row so the replica is caught in the middle of applying.
    const blocker = await createConnection(db.url);
    await blocker.query('BEGIN');
    await blocker.query('SELECT * FROM order_payments WHERE order_id = ? FOR UPDATE', [orderId]);
    const delivery = pay
      .deliver(`${url}/api/v1/payments/wechat/notify`, notification)
      .catch((e: unknown) => e);
    const dbName = db.name;
    for (let i = 0; ; i++) {
      if (i > 100) throw new Error('the replica never reached the payment row');
      const [rows] = await blocker.query(
        // A request's statements may carry a `SET STATEMENT max_statement_time=… FOR` prefix (its budget).
        "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID() AND INFO LIKE '%UPDATE%order_payments%'",
        [dbName],
      );
      if (Number((rows as { n: number }[])[0].n) > 0) break;
      await sleep(50);
    }
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    const answered = await delivery;
    expect(answered).toBeInstanceOf(Error); // WeChat Pay got no answer: it will retry
    await blocker.query('ROLLBACK');
    await blocker.end();

    // The killed replica's transaction is gone with its connection.
    for (let i = 0; i < 50; i++) {
      const [row] = await q('SELECT transaction_id FROM order_payments WHERE order_id = ?', [
        orderId,
      ]);
      const [o] = await q('SELECT status FROM orders WHERE id = ?', [orderId]);
      if (row.transaction_id === null && o.status === 'pending') break;
      await sleep(100);
    }
    expect((await q('SELECT status FROM orders WHERE id = ?', [orderId]))[0].status).toBe(
      'pending',
    );

    const retry = await app.http
      .post('/api/v1/payments/wechat/notify')
      .set(notification.headers)
      .send(notification.body);
    expect(retry.status).toBe(204);
    const again = await app.http
      .post('/api/v1/payments/wechat/notify')
      .set(notification.headers)
      .send(notification.body);
    expect(again.status).toBe(204);
    expect((await q('SELECT status FROM orders WHERE id = ?', [orderId]))[0].status).toBe('paid');
    const [events] = await q(
      "SELECT COUNT(*) AS n FROM outbox WHERE type = 'order.paid' AND aggregate_id = ?",
      [String(orderId)],
    );
    expect(Number(events.n)).toBe(1);
  });
});
