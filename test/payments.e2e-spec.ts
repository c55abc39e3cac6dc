import { createPublicKey, createPrivateKey, createVerify, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Test } from 'supertest';
import { OrdersService } from '../src/modules/orders/index.js';
import { Transactions } from '../src/infra/transactions/index.js';
import { RefundsService } from '../src/modules/payments/refunds.service.js';
import { outTradeNoOf } from '../src/modules/payments/trade-numbers.js';
import type { TestApp } from './helpers/app.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { addressIdOf } from './helpers/addresses.js';
import type { TestDatabase } from './helpers/database.js';
import type { FakeWechat } from './helpers/fake-wechat.js';
import { startFakeWechatPay, type FakeWechatPay } from './helpers/fake-wechat-pay.js';
import { useStack } from './helpers/stack.js';

const ADMIN = 'pay-admin';
const NOTIFY = '/api/v1/payments/wechat/notify';

describe('WeChat Pay and the order lifecycle', () => {
  let pay: FakeWechatPay;
  beforeAll(async () => {
    pay = await startFakeWechatPay();
  });
  afterAll(() => pay.close());

  const stack = useStack({
    apps: 2,
    env: () => ({
      ...pay.env(),
      LOG_LEVEL: 'warn',
      ADMIN_OPENIDS: ADMIN,
      ORDER_AUTO_COMPLETE_DAYS: '0.00001',
    }),
  });
  let a: TestApp;
  let b: TestApp;
  let db: TestDatabase;
  let wx: FakeWechat;
  let admin: LoggedIn;
  let alice: LoggedIn;
  let bob: LoggedIn;

  beforeAll(async () => {
    ({ db, wx } = stack);
    [a, b] = stack.apps;
    admin = await loginAs(a, wx, { admin: true });
    alice = await loginAs(a, wx);
    bob = await loginAs(a, wx);
  });

  const as = (user: LoggedIn, req: Test): Test =>
    req.set('Authorization', `Bearer ${user.accessToken}`);
  const key = () => `k-${randomBytes(8).toString('hex')}`;
  const q = (sql: string, params: unknown[] = []) =>
    db.dataSource.query(sql, params) as Promise<Record<string, unknown>[]>;
  const count = async (sql: string, params: unknown[] = []) => Number((await q(sql, params))[0].n);
  const stockOf = async (id: number) =>
    Number((await q('SELECT stock FROM products WHERE id = ?', [id]))[0].stock);
  const events = (type: string, orderId: number) =>
    count(
      "SELECT COUNT(*) AS n FROM outbox WHERE type = ? AND aggregate_type = 'order' AND aggregate_id = ?",
      [type, String(orderId)],
    );
  const orderRow = async (id: number) => (await q('SELECT * FROM orders WHERE id = ?', [id]))[0];

  async function newProduct(stock = 100, priceCents = 1000): Promise<number> {
    const res = await as(admin, a.http.post('/api/v1/admin/products')).send({
      name: 'Tea',
      priceCents,
      stock,
    });
    expect(res.status).toBe(201);
    return res.body.data.id as number;
  }

  async function placeOrder(user: LoggedIn = alice, quantity = 1, productId?: number) {
    const product = productId ?? (await newProduct());
    const res = await as(user, a.http.post('/api/v1/orders'))
      .set('Idempotency-Key', key())
      .send({ items: [{ productId: product, quantity }], addressId: await addressIdOf(a, user) });
    expect(res.status).toBe(201);
    return {
      orderId: res.body.data.id as number,
      productId: product,
      totalCents: res.body.data.totalCents as number,
    };
  }

  const payParams = (user: LoggedIn, orderId: number, app = a) =>
    as(user, app.http.post(`/api/v1/orders/${orderId}/payment`));

  async function prepaid(user: LoggedIn = alice) {
    const placed = await placeOrder(user);
    const res = await payParams(user, placed.orderId);
    expect(res.status).toBe(200);
    return { ...placed, outTradeNo: outTradeNoOf(placed.orderId), params: res.body.data };
  }

  const notify = (n: { headers: Record<string, string>; body: string }, app = a) =>
    app.http.post(NOTIFY).set(n.headers).send(n.body);

  /** Polls until `check` holds (the queue's jobs run in the apps, asynchronously). */
  async function eventually<T>(
    read: () => Promise<T>,
    check: (v: T) => boolean,
    what: string,
  ): Promise<T> {
    for (let i = 0; i < 100; i++) {
      const v = await read();
      if (check(v)) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  /** The refund job has asked WeChat Pay for this refund. */
  const askedWechat = (outRefundNo: string) =>
    eventually(
      async () => pay.refunds.get(outRefundNo),
      (r) => r !== undefined,
      `refund ${outRefundNo} at WeChat Pay`,
    );

  describe('POST /orders/:id/payment', () => {
    it('answers exactly the wx.requestPayment parameters, paySign by the merchant key', async () => {
      const { orderId, params, outTradeNo } = await prepaid();
      expect(Object.keys(params).sort()).toEqual([
        'nonceStr',
        'package',
        'paySign',
        'signType',
        'timeStamp',
      ]);
      const t = pay.transactions.get(outTradeNo);
      expect(params.package).toBe(`prepay_id=${t?.prepayId}`);
      expect(params.signType).toBe('RSA');
      const merchantPublic = createPublicKey(
        createPrivateKey(readFileSync(pay.env().WECHAT_PAY_PRIVATE_KEY_FILE)),
      );
      const message = `${pay.appid}\n${params.timeStamp}\n${params.nonceStr}\n${params.package}\n`;
      expect(
        createVerify('RSA-SHA256').update(message).verify(merchantPublic, params.paySign, 'base64'),
      ).toBe(true);
      const row = await orderRow(orderId);
      expect(t).toMatchObject({
        total: 1000,
        openid: alice.openid,
        description: `Order ${orderId}`,
      });
      expect(Date.parse(t?.timeExpire ?? '')).toBe(
        Math.floor(new Date(row.pay_before as string).getTime() / 1000) * 1000,
      );
    });

    it('reuses the prepay while it is valid, from any replica', async () => {
      const { orderId, params } = await prepaid();
      const before = pay.counts.prepay;
      const again = await payParams(alice, orderId, b);
      expect(again.status).toBe(200);
      expect(again.body.data.package).toBe(params.package);
      expect(pay.counts.prepay).toBe(before);
      expect(await events('payment.prepaid', orderId)).toBe(1);
    });

    it("is 404 for another user's order and 409 for an order that is not pending", async () => {
      const { orderId } = await placeOrder();
      expect((await payParams(bob, orderId)).status).toBe(404);
      expect((await as(alice, a.http.post(`/api/v1/orders/${orderId}/cancel`))).status).toBe(200);
      const res = await payParams(alice, orderId);
      expect(res.status).toBe(409);
      expect(res.body.code).toBe(40900);
    });

    it('answers 502/50210 when WeChat Pay fails, and writes nothing', async () => {
      const { orderId } = await placeOrder();
      pay.failNext = 'bad_signature';
      const res = await payParams(alice, orderId);
      expect(res.status).toBe(502);
      expect(res.body.code).toBe(50210);
      expect(
        await count('SELECT COUNT(*) AS n FROM order_payments WHERE order_id = ?', [orderId]),
      ).toBe(0);
    });
  });

  describe('POST /payments/wechat/notify', () => {
    it('applies a payment once: 204 with no body, order paid, one order.paid event however often it is retried', async () => {
      const { orderId, outTradeNo } = await prepaid();
      pay.pay(outTradeNo);
      const n = pay.transactionNotification(outTradeNo);
      const first = await notify(n);
      expect(first.status).toBe(204);
      expect(first.text).toBe('');
      // WeChat Pay retries (same bytes, and fresh signatures) on every replica.
      const retries = await Promise.all([
        notify(n, b),
        notify(pay.transactionNotification(outTradeNo), a),
        notify(n, a),
      ]);
      expect(retries.map((r) => r.status)).toEqual([204, 204, 204]);
      expect((await orderRow(orderId)).status).toBe('paid');
      expect(await events('order.paid', orderId)).toBe(1);
      const [payment] = await q('SELECT * FROM order_payments WHERE order_id = ?', [orderId]);
      expect(payment).toMatchObject({
        paid_cents: 1000,
        transaction_id: pay.transactions.get(outTradeNo)?.transactionId,
      });
    });

    it.each([
      ['stale', { stale: true }],
      ['a probe', { probe: true }],
      ['forged', { forged: true }],
      ['from an unknown serial', { unknownSerial: true }],
    ])('refuses a notification %s with 401 FAIL and changes nothing', async (_name, options) => {
      const { orderId, outTradeNo } = await prepaid();
      pay.pay(outTradeNo);
      const res = await notify(pay.transactionNotification(outTradeNo, options));
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ code: 'FAIL', message: expect.any(String) });
      expect((await orderRow(orderId)).status).toBe('pending');
    });

    it('refuses a re-serialized body with 401 (the signature covers the raw bytes)', async () => {
      const { orderId, outTradeNo } = await prepaid();
      pay.pay(outTradeNo);
      const n = pay.transactionNotification(outTradeNo);
      const res = await a.http
        .post(NOTIFY)
        .set(n.headers)
        .send(JSON.parse(n.body) as object);
      expect(res.status).toBe(401);
      expect((await orderRow(orderId)).status).toBe('pending');
    });

    it('refuses an undecryptable resource with 400 FAIL', async () => {
      const { orderId, outTradeNo } = await prepaid();
      pay.pay(outTradeNo);
      const res = await notify(pay.transactionNotification(outTradeNo, { wrongApiV3Key: true }));
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('FAIL');
      expect((await orderRow(orderId)).status).toBe('pending');
    });

    it('refuses a payment of the wrong amount or for another merchant with 400, the order unchanged and the mismatch counted', async () => {
      const { orderId, outTradeNo } = await prepaid();
      pay.pay(outTradeNo, 999);
      const wrongAmount = await notify(pay.transactionNotification(outTradeNo));
      expect(wrongAmount.status).toBe(400);
      const t = pay.transactions.get(outTradeNo);
      const otherMerchant = await notify(
        pay.notification('TRANSACTION.SUCCESS', {
          appid: pay.appid,
          mchid: '1900009999',
          out_trade_no: outTradeNo,
          transaction_id: t?.transactionId,
          trade_state: 'SUCCESS',
          amount: { total: 1000 },
        }),
      );
      expect(otherMerchant.status).toBe(400);
      expect((await orderRow(orderId)).status).toBe('pending');
      const metrics = await a.http.get('/metrics');
      expect(metrics.text).toMatch(/wechat_pay_notifications_total\{outcome="mismatch"\} [1-9]/);
    });
  });

  describe('confirm, cancel and the payment timeout against WeChat Pay', () => {
    it('confirm asks WeChat Pay: paid when it says SUCCESS, still pending otherwise', async () => {
      const { orderId, outTradeNo } = await prepaid();
      const unpaid = await as(alice, a.http.post(`/api/v1/orders/${orderId}/payment/confirm`));
      expect(unpaid.status).toBe(200);
      expect(unpaid.body.data.status).toBe('pending');
      pay.pay(outTradeNo);
      const paid = await as(alice, b.http.post(`/api/v1/orders/${orderId}/payment/confirm`));
      expect(paid.body.data).toMatchObject({ id: orderId, status: 'paid', cancelReason: null });
      expect(await events('order.paid', orderId)).toBe(1);
    });

    it('a user cancel closes the WeChat order first; if it was paid meanwhile the order becomes paid and keeps its stock', async () => {
      const { orderId, outTradeNo, productId } = await prepaid();
      pay.pay(outTradeNo);
      const stock = await stockOf(productId);
      const res = await as(alice, a.http.post(`/api/v1/orders/${orderId}/cancel`));
      expect(res.status).toBe(409);
      expect((await orderRow(orderId)).status).toBe('paid');
      expect(await stockOf(productId)).toBe(stock);
    });

    it('the payment timeout closes the WeChat order, then cancels: no payment can arrive after', async () => {
      const { orderId, outTradeNo, productId } = await prepaid();
      await q('UPDATE orders SET pay_before = ? WHERE id = ?', [
        new Date(Date.now() - 1000),
        orderId,
      ]);
      const stock = await stockOf(productId);
      expect(await a.app.get(OrdersService).expire(orderId)).toBe(true);
      expect(pay.transactions.get(outTradeNo)?.state).toBe('CLOSED');
      expect(await orderRow(orderId)).toMatchObject({
        status: 'cancelled',
        cancel_reason: 'payment_timeout',
      });
      expect(await stockOf(productId)).toBe(stock + 1);
    });

    it('a payment that reaches an order already cancelled is refunded automatically; the order stays cancelled', async () => {
      const { orderId, outTradeNo, totalCents } = await prepaid();
      // The race the close cannot prevent: WeChat accepted the payment, our
      // cancel committed first (here: straight in the database).
      pay.pay(outTradeNo);
      await q("UPDATE orders SET status = 'cancelled', cancel_reason = 'user' WHERE id = ?", [
        orderId,
      ]);
      const n = pay.transactionNotification(outTradeNo);
      expect((await notify(n)).status).toBe(204);
      expect((await notify(n, b)).status).toBe(204);
      const refunds = await q('SELECT * FROM order_refunds WHERE order_id = ?', [orderId]);
      expect(refunds).toHaveLength(1);
      expect(refunds[0]).toMatchObject({
        amount_cents: totalCents,
        resume_status: 'cancelled',
      });
      expect(await events('payment.refund-requested', orderId)).toBe(1);

      const outRefundNo = refunds[0].out_refund_no as string;
      expect(await askedWechat(outRefundNo)).toMatchObject({
        refund: totalCents,
        status: 'PROCESSING',
      });
      pay.settleRefund(outRefundNo);
      const settled = pay.refundNotification(outRefundNo);
      expect((await notify(settled)).status).toBe(204);
      expect((await notify(settled, b)).status).toBe(204);
      expect(await orderRow(orderId)).toMatchObject({
        status: 'cancelled',
        refunded_cents: totalCents,
      });
      const view = await as(alice, a.http.get(`/api/v1/orders/${orderId}`));
      expect(view.body.data).toMatchObject({ status: 'cancelled', refundedCents: totalCents });
    });
  });

  describe('admin: refund, ship, cancel', () => {
    const refund = (orderId: number, k: string, body: object = {}) =>
      as(admin, a.http.post(`/api/v1/admin/orders/${orderId}/refund`))
        .set('Idempotency-Key', k)
        .send(body);

    async function paidOrder() {
      const o = await prepaid();
      pay.pay(o.outTradeNo);
      expect((await notify(pay.transactionNotification(o.outTradeNo))).status).toBe(204);
      return o;
    }

    it('refunds partially then fully, never more than paid, one out_refund_no per key across retries', async () => {
      const { orderId } = await paidOrder();
      const k1 = key();
      const first = await refund(orderId, k1, { amountCents: 300, reason: 'damaged' });
      expect(first.status).toBe(200);
      expect(first.body.data.status).toBe('refunding');
      expect((await refund(orderId, k1, { amountCents: 300, reason: 'damaged' })).status).toBe(200);
      expect((await refund(orderId, k1, { amountCents: 301 })).status).toBe(409);
      expect((await refund(orderId, key(), { amountCents: 1 })).status).toBe(409); // one in flight
      const rows = await q('SELECT * FROM order_refunds WHERE order_id = ?', [orderId]);
      expect(rows).toHaveLength(1);
      const outRefundNo = rows[0].out_refund_no as string;
      await askedWechat(outRefundNo);
      // A retried job (here: run by hand on the other replica) asks for the same refund.
      await b.app
        .get(Transactions)
        .run((m) => b.app.get(RefundsService).send(m, Number(rows[0].id)));
      const asked = pay.received
        .filter(
          (r) =>
            r.api === 'refund' &&
            (r.body as { out_trade_no: string }).out_trade_no === outTradeNoOf(orderId),
        )
        .map((r) => (r.body as { out_refund_no: string }).out_refund_no);
      expect(asked.length).toBeGreaterThanOrEqual(2);
      expect(new Set(asked)).toEqual(new Set([outRefundNo]));
      expect(
        [...pay.refunds.values()].filter((r) => r.outTradeNo === outTradeNoOf(orderId)),
      ).toHaveLength(1);
      pay.settleRefund(outRefundNo);
      expect((await notify(pay.refundNotification(outRefundNo))).status).toBe(204);
      expect(await orderRow(orderId)).toMatchObject({ status: 'paid', refunded_cents: 300 });

      const over = await refund(orderId, key(), { amountCents: 701 });
      expect(over.status).toBe(409);
      expect(over.body.data).toEqual({ refundableCents: 700 });
      expect((await refund(orderId, key())).status).toBe(200);
      const second = (
        await q(
          "SELECT out_refund_no FROM order_refunds WHERE order_id = ? AND state <> 'success'",
          [orderId],
        )
      )[0].out_refund_no as string;
      expect((await askedWechat(second))?.refund).toBe(700);
      pay.settleRefund(second);
      expect((await notify(pay.refundNotification(second))).status).toBe(204);
      expect(await orderRow(orderId)).toMatchObject({ status: 'refunded', refunded_cents: 1000 });
      expect(await events('order.refunded', orderId)).toBe(2);
      expect((await refund(orderId, key())).status).toBe(409);
    });

    it('a refund WeChat Pay closes puts the order back where it was', async () => {
      const { orderId } = await paidOrder();
      expect((await refund(orderId, key())).status).toBe(200);
      const [row] = await q('SELECT out_refund_no FROM order_refunds WHERE order_id = ?', [
        orderId,
      ]);
      await askedWechat(row.out_refund_no as string);
      pay.settleRefund(row.out_refund_no as string, 'CLOSED');
      expect((await notify(pay.refundNotification(row.out_refund_no as string))).status).toBe(204);
      expect(await orderRow(orderId)).toMatchObject({ status: 'paid', refunded_cents: 0 });
    });

    it('refuses a refund without an Idempotency-Key (400) and by a non-admin (403)', async () => {
      const { orderId } = await paidOrder();
      const missing = await as(admin, a.http.post(`/api/v1/admin/orders/${orderId}/refund`)).send(
        {},
      );
      expect(missing.status).toBe(400);
      expect(missing.body.data.errors[0].field).toBe('Idempotency-Key');
      expect(
        (
          await as(alice, a.http.post(`/api/v1/admin/orders/${orderId}/refund`))
            .set('Idempotency-Key', key())
            .send({})
        ).status,
      ).toBe(403);
    });

    it('ships a paid order once (carrier, tracking number), then completes it after ORDER_AUTO_COMPLETE_DAYS', async () => {
      const { orderId } = await paidOrder();
      const ship = () =>
        as(admin, a.http.post(`/api/v1/admin/orders/${orderId}/ship`)).send({
          carrier: 'SF',
          trackingNo: 'SF123',
        });
      const results = await Promise.all([ship(), ship(), ship()]);
      expect(results.map((r) => r.status).sort((x, y) => x - y)).toEqual([200, 409, 409]);
      expect(await orderRow(orderId)).toMatchObject({ status: 'shipped' });
      expect(
        await q('SELECT carrier, tracking_no FROM order_shipments WHERE order_id = ?', [orderId]),
      ).toEqual([{ carrier: 'SF', tracking_no: 'SF123' }]);
      expect(await events('order.shipped', orderId)).toBe(1);
      // The auto-complete job is due 0.00001 days (0.864 s) after shipping.
      await eventually(
        () => orderRow(orderId),
        (o) => o.status === 'completed',
        'completion',
      );
    });

    it('refuses to ship a pending order (409)', async () => {
      const { orderId } = await placeOrder();
      expect(
        (await as(admin, a.http.post(`/api/v1/admin/orders/${orderId}/ship`)).send({})).status,
      ).toBe(409);
    });

    it('cancels a pending order as admin (cancelReason admin) and returns its stock', async () => {
      const { orderId, productId } = await placeOrder(alice, 2);
      const stock = await stockOf(productId);
      const res = await as(admin, a.http.post(`/api/v1/admin/orders/${orderId}/cancel`));
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ status: 'cancelled', cancelReason: 'admin' });
      expect(await stockOf(productId)).toBe(stock + 2);
      expect((await as(alice, a.http.post(`/api/v1/admin/orders/${orderId}/cancel`))).status).toBe(
        403,
      );
    });
  });
});
