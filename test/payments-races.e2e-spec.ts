import { randomBytes } from 'node:crypto';
import type { Test } from 'supertest';
import { OrdersService } from '../src/modules/orders/index.js';
import { outTradeNoOf } from '../src/modules/payments/trade-numbers.js';
import type { TestApp } from './helpers/app.js';
import { addressIdOf } from './helpers/addresses.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { startFakeWechatPay, type FakeWechatPay } from './helpers/fake-wechat-pay.js';
import { useStack } from './helpers/stack.js';

const ROUNDS = 16;
const NOTIFY = '/api/v1/payments/wechat/notify';
const jitter = (maxMs = 15) => new Promise((r) => setTimeout(r, Math.floor(Math.random() * maxMs)));

/**
 * One order, everything that can happen to it at once, on two replicas:
 * the user pays (and WeChat Pay notifies, twice), the payment timeout
 * closes it, the user cancels it, the client confirms. Whatever wins, the
 * end state is consistent: paid with its stock kept and no refund, or
 * cancelled with its stock back once and any money taken refunded once.
 */
describe('races on one order (notification vs timeout vs user cancel vs confirm)', () => {
  let pay: FakeWechatPay;
  beforeAll(async () => {
    pay = await startFakeWechatPay();
  });
  afterAll(() => pay.close());
  const stack = useStack({
    apps: 2,
    env: () => ({ ...pay.env(), LOG_LEVEL: 'error', ADMIN_OPENIDS: 'race-admin' }),
  });
  let a: TestApp;
  let b: TestApp;
  let user: LoggedIn;
  let productId: number;

  const as = (req: Test): Test => req.set('Authorization', `Bearer ${user.accessToken}`);
  const q = (sql: string, params: unknown[] = []) =>
    stack.db.dataSource.query(sql, params) as Promise<Record<string, unknown>[]>;
  const count = async (sql: string, params: unknown[]) => Number((await q(sql, params))[0].n);
  const stock = async () =>
    Number((await q('SELECT stock FROM products WHERE id = ?', [productId]))[0].stock);

  beforeAll(async () => {
    [a, b] = stack.apps;
    const admin = await loginAs(a, stack.wx, { admin: true });
    user = await loginAs(a, stack.wx);
    const res = await a.http
      .post('/api/v1/admin/products')
      .set('Authorization', `Bearer ${admin.accessToken}`)
      .send({ name: 'Race tea', priceCents: 700, stock: 1000 });
    productId = res.body.data.id as number;
  });

  it(`ends every one of ${ROUNDS} rounds in one consistent state`, async () => {
    const ends = { paid: 0, cancelled: 0, refunded: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const before = await stock();
      const placed = await as(a.http.post('/api/v1/orders'))
        .set('Idempotency-Key', `race-${randomBytes(8).toString('hex')}`)
        .send({ items: [{ productId, quantity: 1 }], addressId: await addressIdOf(a, user) });
      const orderId = placed.body.data.id as number;
      const outTradeNo = outTradeNoOf(orderId);
      expect((await as(a.http.post(`/api/v1/orders/${orderId}/payment`))).status).toBe(200);
      // Due now, so the timeout may close it; the prepay stays payable at WeChat until closed.
      await q('UPDATE orders SET pay_before = ? WHERE id = ?', [new Date(Date.now() - 1), orderId]);

      const userPays = async () => {
        // Paying is instant here while a cancel first calls WeChat Pay: a
        // wider spread gives both sides their wins.
        await jitter(60);
        try {
          pay.pay(outTradeNo);
        } catch {
          return; // closed first: the user could not pay
        }
        const n = pay.transactionNotification(outTradeNo);
        await Promise.all([
          a.http.post(NOTIFY).set(n.headers).send(n.body),
          b.http.post(NOTIFY).set(n.headers).send(n.body),
        ]);
      };
      const timeout = async () => {
        await jitter();
        await b.app
          .get(OrdersService)
          .expire(orderId)
          .catch(() => false);
      };
      const cancel = async () => {
        await jitter();
        await as(a.http.post(`/api/v1/orders/${orderId}/cancel`));
      };
      const confirm = async () => {
        await jitter();
        await as(b.http.post(`/api/v1/orders/${orderId}/payment/confirm`));
      };
      await Promise.all([userPays(), timeout(), cancel(), confirm(), timeout()]);

      // What WeChat Pay retries and the jobs do afterwards.
      const wechat = pay.transactions.get(outTradeNo);
      if (wechat?.state === 'SUCCESS') {
        const n = pay.transactionNotification(outTradeNo);
        expect((await a.http.post(NOTIFY).set(n.headers).send(n.body)).status).toBe(204);
      }
      const refunds = await q('SELECT id, out_refund_no FROM order_refunds WHERE order_id = ?', [
        orderId,
      ]);
      for (const r of refunds) {
        // The refund job (run by the apps' workers) asks WeChat Pay; WeChat Pay settles it.
        for (let i = 0; i < 100 && !pay.refunds.has(r.out_refund_no as string); i++) {
          await new Promise((done) => setTimeout(done, 100));
        }
        pay.settleRefund(r.out_refund_no as string);
        const n = pay.refundNotification(r.out_refund_no as string);
        expect((await b.http.post(NOTIFY).set(n.headers).send(n.body)).status).toBe(204);
      }

      const [order] = await q('SELECT status, refunded_cents FROM orders WHERE id = ?', [orderId]);
      const paidEvents = await count(
        "SELECT COUNT(*) AS n FROM outbox WHERE type = 'order.paid' AND aggregate_id = ?",
        [String(orderId)],
      );
      const cancelledEvents = await count(
        "SELECT COUNT(*) AS n FROM outbox WHERE type = 'order.cancelled' AND aggregate_id = ?",
        [String(orderId)],
      );
      const state = pay.transactions.get(outTradeNo)?.state;
      const moneyTaken = state === 'SUCCESS' || state === 'REFUND';
      if (order.status === 'paid') {
        ends.paid++;
        expect(moneyTaken).toBe(true);
        expect(await stock()).toBe(before - 1);
        expect([paidEvents, cancelledEvents, refunds.length]).toEqual([1, 0, 0]);
      } else {
        expect(order.status).toBe('cancelled');
        ends.cancelled++;
        expect(await stock()).toBe(before); // returned exactly once
        expect([paidEvents, cancelledEvents]).toEqual([0, 1]);
        // Money taken from a cancelled order comes back exactly once; none taken, none refunded.
        expect(refunds.length).toBe(moneyTaken ? 1 : 0);
        expect(Number(order.refunded_cents)).toBe(moneyTaken ? 700 : 0);
        if (moneyTaken) ends.refunded++;
      }
    }
    // The split varies from run to run; it is printed so a run that never
    // produced one of the outcomes is visible.
    expect(ends.paid + ends.cancelled).toBe(ROUNDS);
    console.log(`race outcomes over ${ROUNDS} rounds: ${JSON.stringify(ends)}`);
  });
});
