import { randomBytes } from 'node:crypto';
import { startEmbeddedTestApp, type TestApp } from './helpers/app.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { addressIdOf } from './helpers/addresses.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';
import { useStack } from './helpers/stack.js';

const key = () => `k-${randomBytes(8).toString('hex')}`;

async function placeOrder(app: TestApp, admin: LoggedIn, user: LoggedIn): Promise<number> {
  const product = await app.http
    .post('/api/v1/admin/products')
    .set('Authorization', `Bearer ${admin.accessToken}`)
    .send({ name: 'Tea', priceCents: 1200, stock: 10 });
  expect(product.status).toBe(201);
  const order = await app.http
    .post('/api/v1/orders')
    .set('Authorization', `Bearer ${user.accessToken}`)
    .set('Idempotency-Key', key())
    .send({
      items: [{ productId: product.body.data.id, quantity: 1 }],
      addressId: await addressIdOf(app, user),
    });
  expect(order.status).toBe(201);
  return order.body.data.id as number;
}

/** The sandbox pays end to end: parameters, the "user paid" route, a refund. */
async function sandboxFlow(app: TestApp, wx: FakeWechat): Promise<void> {
  const admin = await loginAs(app, wx, { admin: true });
  const user = await loginAs(app, wx);
  const orderId = await placeOrder(app, admin, user);
  const auth = { Authorization: `Bearer ${user.accessToken}` };

  const early = await app.http.post(`/api/v1/dev/payments/${orderId}/succeed`).set(auth);
  expect(early.status).toBe(409);

  const params = await app.http.post(`/api/v1/orders/${orderId}/payment`).set(auth);
  expect(params.status).toBe(200);
  expect(Object.keys(params.body.data).sort()).toEqual([
    'nonceStr',
    'package',
    'paySign',
    'signType',
    'timeStamp',
  ]);
  expect(params.body.data.package).toMatch(/^prepay_id=sandbox_/);

  const paid = await app.http.post(`/api/v1/dev/payments/${orderId}/succeed`).set(auth);
  expect(paid.status).toBe(200);
  expect(paid.body.data).toMatchObject({ id: orderId, status: 'paid' });
  const again = await app.http.post(`/api/v1/dev/payments/${orderId}/succeed`).set(auth);
  expect(again.body.data.status).toBe('paid');

  const refund = await app.http
    .post(`/api/v1/admin/orders/${orderId}/refund`)
    .set('Authorization', `Bearer ${admin.accessToken}`)
    .set('Idempotency-Key', key())
    .send({});
  expect(refund.body.data.status).toBe('refunding');
  // The refund job runs in the app; the sandbox refunds at once.
  let after = await app.http.get(`/api/v1/orders/${orderId}`).set(auth);
  for (let i = 0; i < 100 && after.body.data.status !== 'refunded'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = await app.http.get(`/api/v1/orders/${orderId}`).set(auth);
  }
  expect(after.body.data).toMatchObject({ status: 'refunded', refundedCents: 1200 });
}

describe('WeChat Pay modes', () => {
  describe('production without WECHAT_PAY_MCHID', () => {
    const stack = useStack({
      env: { NODE_ENV: 'production', LOG_LEVEL: 'error', ADMIN_OPENIDS: 'modes-admin' },
    });

    it('boots, and the payment routes answer 503/50300 (the notification route in its own format)', async () => {
      const { app, wx } = stack;
      const admin = await loginAs(app, wx, { admin: true });
      const user = await loginAs(app, wx);
      const orderId = await placeOrder(app, admin, user);
      const auth = { Authorization: `Bearer ${user.accessToken}` };
      for (const path of [
        `/api/v1/orders/${orderId}/payment`,
        `/api/v1/orders/${orderId}/payment/confirm`,
      ]) {
        const res = await app.http.post(path).set(auth);
        expect(res.status).toBe(503);
        expect(res.body.code).toBe(50300);
      }
      const notify = await app.http
        .post('/api/v1/payments/wechat/notify')
        .set('content-type', 'application/json')
        .send('{}');
      expect(notify.status).toBe(503);
      expect(notify.body.code).toBe('FAIL');
      // No sandbox in production.
      expect(
        (await app.http.post(`/api/v1/dev/payments/${orderId}/succeed`).set(auth)).status,
      ).toBe(404);
    });
  });

  describe('sandbox (development and test without credentials)', () => {
    const stack = useStack({ env: { LOG_LEVEL: 'error', ADMIN_OPENIDS: 'modes-admin' } });

    it('pays through the same notification handler and refunds', async () => {
      await sandboxFlow(stack.app, stack.wx);
    });
  });

  describe('sandbox in the embedded quick start', () => {
    let app: TestApp;
    let wx: FakeWechat;
    beforeAll(async () => {
      wx = await startFakeWechat();
      app = await startEmbeddedTestApp({
        LOG_LEVEL: 'error',
        WECHAT_APPID: 'wx-test-appid',
        WECHAT_SECRET: 'wechat-test-secret-value',
        WECHAT_API_BASE_URL: wx.url,
        ADMIN_OPENIDS: 'modes-admin',
      });
    });
    afterAll(async () => {
      await app?.close();
      await wx?.close();
    });

    it('pays and refunds on the embedded database too', async () => {
      await sandboxFlow(app, wx);
    });
  });
});
