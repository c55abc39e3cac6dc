import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { PaymentJobs } from '../src/modules/payments/payment-jobs.js';
import { outTradeNoOf } from '../src/modules/payments/trade-numbers.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { addressIdOf } from './helpers/addresses.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, uniqueSuffix } from './helpers/env.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';
import { startFakeWechatPay, type FakeWechatPay } from './helpers/fake-wechat-pay.js';
import { OwnRedisServer } from './helpers/redis-server.js';
import { useStack } from './helpers/stack.js';
import { until } from './helpers/until.js';

const ADMIN = 'fulfil-admin';
const QUEUE = 'payments.shipping-upload';
const NOTIFY = '/api/v1/payments/wechat/notify';

/** Places, prepays and (optionally) pays orders through the real routes. */
function shop(app: () => TestApp, wx: () => FakeWechat, pay: () => FakeWechatPay) {
  const as = (user: LoggedIn) => ({ Authorization: `Bearer ${user.accessToken}` });
  return {
    as,
    async prepaid(admin: LoggedIn, user: LoggedIn, name = 'Menghai ripe Pu-erh 357g') {
      const product = await app()
        .http.post('/api/v1/admin/products')
        .set(as(admin))
        .send({ name, priceCents: 1200, stock: 10 });
      expect(product.status).toBe(201);
      const order = await app()
        .http.post('/api/v1/orders')
        .set(as(user))
        .set('Idempotency-Key', `k-${randomBytes(8).toString('hex')}`)
        .send({
          items: [{ productId: product.body.data.id, quantity: 1 }],
          addressId: await addressIdOf(app(), user),
        });
      expect(order.status).toBe(201);
      const orderId = order.body.data.id as number;
      expect(
        (await app().http.post(`/api/v1/orders/${orderId}/payment`).set(as(user))).status,
      ).toBe(200);
      return { orderId, outTradeNo: outTradeNoOf(orderId) };
    },
    async paid(admin: LoggedIn, user: LoggedIn, name?: string) {
      const o = await this.prepaid(admin, user, name);
      pay().pay(o.outTradeNo);
      const n = pay().transactionNotification(o.outTradeNo);
      expect((await app().http.post(NOTIFY).set(n.headers).send(n.body)).status).toBe(204);
      return { ...o, transactionId: pay().transactions.get(o.outTradeNo)!.transactionId! };
    },
    ship: (admin: LoggedIn, orderId: number, body: Record<string, unknown>) =>
      app().http.post(`/api/v1/admin/orders/${orderId}/ship`).set(as(admin)).send(body),
    status: async (user: LoggedIn, orderId: number) =>
      (await app().http.get(`/api/v1/orders/${orderId}`).set(as(user))).body.data.status as string,
    wx,
  };
}

describe('shipping information upload (MariaDB + Redis, BullMQ, fake WeChat)', () => {
  let pay: FakeWechatPay;
  beforeAll(async () => {
    pay = await startFakeWechatPay();
  });
  afterAll(() => pay.close());

  const stack = useStack({
    env: () => ({ ...pay.env(), LOG_LEVEL: 'error', ADMIN_OPENIDS: ADMIN }),
  });
  const s = shop(
    () => stack.app,
    () => stack.wx,
    () => pay,
  );
  let admin: LoggedIn;
  let alice: LoggedIn;
  beforeAll(async () => {
    admin = await loginAs(stack.app, stack.wx, { admin: true });
    alice = await loginAs(stack.app, stack.wx);
  });

  const q = (sql: string, params: unknown[] = []) =>
    stack.db.dataSource.query(sql, params) as Promise<Record<string, unknown>[]>;
  const shippedEvent = async (orderId: number) =>
    Number(
      (
        await q("SELECT id FROM outbox WHERE type = 'order.shipped' AND aggregate_id = ?", [
          String(orderId),
        ])
      )[0].id,
    );
  const processed = async (eventId: number) =>
    Number(
      (
        await q('SELECT COUNT(*) AS n FROM processed_events WHERE consumer = ? AND event_id = ?', [
          QUEUE,
          eventId,
        ])
      )[0].n,
    );
  const uploadsOf = (transactionId: string) =>
    stack.wx.shippingUploads.filter(
      (u) => (u.order_key as { transaction_id?: string }).transaction_id === transactionId,
    );
  const deadLetter = (eventId: number) =>
    until(async () => {
      const res = await stack.app.http
        .get(`/api/v1/admin/queues/${QUEUE}/dead-letters`)
        .set(s.as(admin));
      const items = res.body.data.items as {
        jobId: string;
        event: { id: number };
        failedReason: string;
      }[];
      return items.find((l) => l.event.id === eventId);
    }, 10_000);

  it('ship uploads once, keyed by the transaction id, with the express details, item names and payer', async () => {
    const { orderId, transactionId } = await s.paid(admin, alice);
    const res = await s.ship(admin, orderId, { carrier: 'SF', trackingNo: 'SF1234567890' });
    expect(res.status).toBe(200);
    const [upload] = await until(
      async () => uploadsOf(transactionId).length > 0 && uploadsOf(transactionId),
      10_000,
    );
    expect(upload).toEqual({
      order_key: { order_number_type: 2, transaction_id: transactionId },
      logistics_type: 1,
      delivery_mode: 1,
      shipping_list: [
        {
          tracking_no: 'SF1234567890',
          express_company: 'SF',
          item_desc: 'Menghai ripe Pu-erh 357g',
        },
      ],
      upload_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/) as string,
      payer: { openid: alice.openid },
    });
    // upload_time is now, in Beijing time.
    expect(Math.abs(Date.parse(upload.upload_time as string) - Date.now())).toBeLessThan(60_000);
    await until(async () => (await processed(await shippedEvent(orderId))) === 1, 10_000);
  });

  it('without a tracking number the order is uploaded as picked up by the user (logistics_type 4)', async () => {
    const { orderId, transactionId } = await s.paid(admin, alice);
    expect((await s.ship(admin, orderId, {})).status).toBe(200);
    const [upload] = await until(
      async () => uploadsOf(transactionId).length > 0 && uploadsOf(transactionId),
      10_000,
    );
    expect(upload).toMatchObject({
      logistics_type: 4,
      shipping_list: [{ item_desc: 'Menghai ripe Pu-erh 357g' }],
    });
    expect(upload.shipping_list).toEqual([{ item_desc: 'Menghai ripe Pu-erh 357g' }]);
  });

  it('several parcels: one upload as split delivery, each parcel with its tracking number and items', async () => {
    const product = async (name: string) =>
      (
        await stack.app.http
          .post('/api/v1/admin/products')
          .set(s.as(admin))
          .send({ name, priceCents: 500, stock: 10 })
      ).body.data.id as number;
    const tea = await product('Longjing 250g');
    const cups = await product('Celadon cups');
    const placed = await stack.app.http
      .post('/api/v1/orders')
      .set(s.as(alice))
      .set('Idempotency-Key', `k-${randomBytes(8).toString('hex')}`)
      .send({
        items: [
          { productId: tea, quantity: 2 },
          { productId: cups, quantity: 1 },
        ],
        addressId: await addressIdOf(stack.app, alice),
      });
    const orderId = placed.body.data.id as number;
    expect(
      (await stack.app.http.post(`/api/v1/orders/${orderId}/payment`).set(s.as(alice))).status,
    ).toBe(200);
    pay.pay(outTradeNoOf(orderId));
    const n = pay.transactionNotification(outTradeNoOf(orderId));
    expect((await stack.app.http.post(NOTIFY).set(n.headers).send(n.body)).status).toBe(204);
    const transactionId = pay.transactions.get(outTradeNoOf(orderId))!.transactionId!;

    const refused = async (body: Record<string, unknown>, field: string) => {
      const res = await stack.app.http
        .post(`/api/v1/admin/orders/${orderId}/ship`)
        .set(s.as(admin))
        .send(body);
      expect([res.status, res.body.data?.errors?.[0]?.field]).toEqual([400, field]);
    };
    const parcel = (i: number) => ({ carrier: 'SF', trackingNo: `SF-P${i}` });
    await refused({ packages: Array.from({ length: 11 }, (_, i) => parcel(i)) }, 'packages');
    await refused({ packages: [{ carrier: 'SF' }] }, 'packages[0].trackingNo');
    await refused({ carrier: 'SF', packages: [parcel(1)] }, 'packages');
    await refused({ packages: [parcel(1), parcel(2), parcel(1)] }, 'packages[2].trackingNo');
    await refused(
      { packages: [{ ...parcel(1), items: [{ productId: 999_999, quantity: 1 }] }] },
      'packages[0].items[0].productId',
    );
    expect(await s.status(alice, orderId)).toBe('paid');

    const res = await s.ship(admin, orderId, {
      packages: [
        { ...parcel(1), items: [{ productId: tea, quantity: 2 }] },
        { carrier: 'ZTO', trackingNo: 'ZT-P2', items: [{ productId: cups, quantity: 1 }] },
        { carrier: 'ZTO', trackingNo: 'ZT-P3' },
      ],
    });
    expect(res.status).toBe(200);
    const [upload] = await until(
      async () => uploadsOf(transactionId).length > 0 && uploadsOf(transactionId),
      10_000,
    );
    expect(upload).toMatchObject({
      logistics_type: 1,
      delivery_mode: 2,
      is_all_delivered: true,
      shipping_list: [
        { tracking_no: 'SF-P1', express_company: 'SF', item_desc: 'Longjing 250g' },
        { tracking_no: 'ZT-P2', express_company: 'ZTO', item_desc: 'Celadon cups' },
        { tracking_no: 'ZT-P3', express_company: 'ZTO', item_desc: 'Longjing 250g、Celadon cups' },
      ],
    });
    expect(uploadsOf(transactionId)).toHaveLength(1);
    // The order keeps every package, in the order given, with one shipping time.
    const detail = await stack.app.http.get(`/api/v1/admin/orders/${orderId}`).set(s.as(admin));
    expect(detail.status).toBe(200);
    const shipments = detail.body.data.shipments as { shippedAt: string }[];
    expect(shipments).toEqual([
      { carrier: 'SF', trackingNo: 'SF-P1', shippedAt: shipments[0].shippedAt },
      { carrier: 'ZTO', trackingNo: 'ZT-P2', shippedAt: shipments[0].shippedAt },
      { carrier: 'ZTO', trackingNo: 'ZT-P3', shippedAt: shipments[0].shippedAt },
    ]);
    // The back office finds the order by any package's tracking number.
    for (const trackingNo of ['SF-P1', 'ZT-P2', 'ZT-P3']) {
      const found = await stack.app.http
        .get(`/api/v1/admin/orders?q=${trackingNo}`)
        .set(s.as(admin));
      expect(found.body.data.items.map((o: { id: number }) => o.id)).toEqual([orderId]);
    }
  });

  it('a refused ship writes nothing: the order stays paid with no shipment; ten packages (WeChat’s limit) are stored', async () => {
    const { orderId } = await s.paid(admin, alice);
    const parcels = Array.from({ length: 11 }, (_, i) => ({
      carrier: 'SF',
      trackingNo: `SF-X${i}`,
    }));
    const stored = async () =>
      (await q(
        'SELECT package_index AS i, tracking_no AS t FROM order_shipments WHERE order_id = ? ORDER BY package_index',
        [orderId],
      )) as { i: number; t: string }[];
    // Refused by the body's bound, and inside the transaction (after paid → shipped was applied).
    for (const body of [
      { packages: parcels },
      { packages: [...parcels.slice(0, 9), parcels[0]] },
    ]) {
      const res = await s.ship(admin, orderId, body);
      expect([res.status, res.body.code]).toEqual([400, 40000]);
      expect(await s.status(alice, orderId)).toBe('paid');
      expect(await stored()).toEqual([]);
    }
    const buyerView = () => stack.app.http.get(`/api/v1/orders/${orderId}`).set(s.as(alice));
    expect((await buyerView()).body.data.shipments).toEqual([]);
    expect((await s.ship(admin, orderId, { packages: parcels.slice(0, 10) })).status).toBe(200);
    expect(await stored()).toEqual(parcels.slice(0, 10).map((p, i) => ({ i, t: p.trackingNo })));
    expect(await shippedEvent(orderId)).toBeGreaterThan(0);
    // The buyer sees every package, in the order staff gave them; nobody else sees the order.
    const { shipments } = (await buyerView()).body.data as {
      shipments: { carrier: string; trackingNo: string; shippedAt: string }[];
    };
    expect(shipments.map((p) => [p.carrier, p.trackingNo])).toEqual(
      parcels.slice(0, 10).map((p) => [p.carrier, p.trackingNo]),
    );
    expect(new Set(shipments.map((p) => p.shippedAt)).size).toBe(1);
    const other = await stack.app.http.get(`/api/v1/orders/${orderId}`).set(s.as(admin));
    expect([other.status, other.body.code]).toEqual([404, 40400]);
  });

  it('a redelivered order.shipped uploads nothing more', async () => {
    const { orderId, transactionId } = await s.paid(admin, alice);
    expect((await s.ship(admin, orderId, { carrier: 'ZTO', trackingNo: 'ZT1' })).status).toBe(200);
    const eventId = await shippedEvent(orderId);
    await until(async () => (await processed(eventId)) === 1, 10_000);
    const calls = stack.wx.counts.shippingUpload;
    // Redelivery: the job is gone from the queue and the relay publishes the row again.
    const queue = new Queue(QUEUE, {
      connection: { host: '127.0.0.1', port: 6379 },
      prefix: `${stack.app.config.redis!.keyPrefix}bull`,
    });
    await until(async () => (await queue.getJobState(`e${eventId}`)) === 'completed', 10_000);
    await queue.clean(0, 100_000, 'completed');
    await q('UPDATE outbox SET published_at = NULL WHERE id = ?', [eventId]);
    await queue.close();
    await until(async () => {
      const metrics = (await stack.app.http.get('/metrics')).text;
      return /queue_job_duration_seconds_count\{queue="payments.shipping-upload",outcome="duplicate"\} [1-9]/.test(
        metrics,
      );
    }, 10_000);
    expect(stack.wx.counts.shippingUpload).toBe(calls);
    expect(uploadsOf(transactionId)).toHaveLength(1);
  });

  it.each([40001, 42001, 40014])(
    'a dead access_token (%i) is refreshed and the upload retried once',
    async (errcode) => {
      const { orderId, transactionId } = await s.paid(admin, alice);
      const calls = stack.wx.counts.shippingUpload;
      const tokens = stack.wx.counts.stableToken;
      stack.wx.invalidateAccessToken(errcode);
      expect(
        (await s.ship(admin, orderId, { carrier: 'SF', trackingNo: `SF${errcode}` })).status,
      ).toBe(200);
      await until(async () => (await processed(await shippedEvent(orderId))) === 1, 10_000);
      expect(uploadsOf(transactionId)).toHaveLength(1);
      expect(stack.wx.counts.shippingUpload).toBe(calls + 2);
      expect(stack.wx.counts.stableToken).toBe(tokens + 1);
    },
  );

  it('10060001 (WeChat knows no such payment) dead-letters at once with WeChat\u2019s errmsg, then uploads once retried', async () => {
    const { orderId, transactionId } = await s.paid(admin, alice);
    const calls = stack.wx.counts.shippingUpload;
    stack.wx.shippingErrcode = 10060001;
    try {
      expect((await s.ship(admin, orderId, { carrier: 'SF', trackingNo: 'SF-X' })).status).toBe(
        200,
      );
      const eventId = await shippedEvent(orderId);
      const letter = await deadLetter(eventId);
      expect(letter.failedReason).toContain('10060001');
      expect(letter.failedReason).toContain('支付单不存在');
      expect(stack.wx.counts.shippingUpload).toBe(calls + 1);
      expect(await processed(eventId)).toBe(0);
    } finally {
      stack.wx.shippingErrcode = undefined;
    }
    expect(uploadsOf(transactionId)).toHaveLength(0);
    // The order stays shipped: the upload is WeChat's record, not our state.
    expect(await s.status(alice, orderId)).toBe('shipped');
    // Never lost: once WeChat knows the payment, the operator retries the dead letter.
    const letter = await deadLetter(await shippedEvent(orderId));
    const retried = await stack.app.http
      .post(`/api/v1/admin/queues/${QUEUE}/dead-letters/${letter.jobId}/retry`)
      .set(s.as(admin));
    expect(retried.status).toBe(200);
    await until(async () => uploadsOf(transactionId).length === 1, 10_000);
    await until(async () => (await processed(await shippedEvent(orderId))) === 1, 10_000);
    expect(uploadsOf(transactionId)).toHaveLength(1);
  });

  it('10060003 (already uploaded) counts as done: processed, no dead letter, no retry', async () => {
    const { orderId } = await s.paid(admin, alice);
    const calls = stack.wx.counts.shippingUpload;
    stack.wx.shippingErrcode = 10060003;
    try {
      expect((await s.ship(admin, orderId, { carrier: 'SF', trackingNo: 'SF-A' })).status).toBe(
        200,
      );
      await until(async () => (await processed(await shippedEvent(orderId))) === 1, 10_000);
    } finally {
      stack.wx.shippingErrcode = undefined;
    }
    expect(stack.wx.counts.shippingUpload).toBe(calls + 1);
  });

  it('10060019 (WeChat system error) rolls back and retries until uploaded once', async () => {
    const { orderId, transactionId } = await s.paid(admin, alice);
    const calls = stack.wx.counts.shippingUpload;
    stack.wx.shippingErrcode = 10060019;
    expect((await s.ship(admin, orderId, { carrier: 'SF', trackingNo: 'SF-R' })).status).toBe(200);
    const eventId = await shippedEvent(orderId);
    await until(async () => stack.wx.counts.shippingUpload > calls, 10_000);
    expect(await processed(eventId)).toBe(0);
    stack.wx.shippingErrcode = undefined;
    await until(async () => (await processed(eventId)) === 1, 15_000);
    expect(uploadsOf(transactionId)).toHaveLength(1);
  }, 20_000);

  it('same-city delivery (sameCity) uploads logistics_type 2, with the courier number if given', async () => {
    const { orderId, transactionId } = await s.paid(admin, alice);
    const bad = await s.ship(admin, orderId, {
      sameCity: true,
      packages: [{ carrier: 'SF', trackingNo: 'SF1' }],
    });
    expect(bad.status).toBe(400);
    expect(await s.status(alice, orderId)).toBe('paid');
    expect((await s.ship(admin, orderId, { sameCity: true })).status).toBe(200);
    const [upload] = await until(
      async () => uploadsOf(transactionId).length > 0 && uploadsOf(transactionId),
      10_000,
    );
    expect(upload).toMatchObject({ logistics_type: 2, delivery_mode: 1 });
    expect(upload.shipping_list).toEqual([{ item_desc: 'Menghai ripe Pu-erh 357g' }]);
  });

  describe('virtual goods', () => {
    const product = async (name: string, delivery: 'virtual' | 'express') =>
      (
        await stack.app.http
          .post('/api/v1/admin/products')
          .set(s.as(admin))
          .send({ name, priceCents: 300, stock: 10, delivery })
      ).body.data.id as number;
    /** Places and pays an order of `productIds` (no address: it may hold only virtual goods). */
    const payFor = async (productIds: number[], address: boolean) => {
      const order = await stack.app.http
        .post('/api/v1/orders')
        .set(s.as(alice))
        .set('Idempotency-Key', `k-${randomBytes(8).toString('hex')}`)
        .send({
          items: productIds.map((productId) => ({ productId, quantity: 1 })),
          ...(address ? { addressId: await addressIdOf(stack.app, alice) } : {}),
        });
      expect(order.status).toBe(201);
      const orderId = order.body.data.id as number;
      expect(
        (await stack.app.http.post(`/api/v1/orders/${orderId}/payment`).set(s.as(alice))).status,
      ).toBe(200);
      const outTradeNo = outTradeNoOf(orderId);
      pay.pay(outTradeNo);
      const n = pay.transactionNotification(outTradeNo);
      expect((await stack.app.http.post(NOTIFY).set(n.headers).send(n.body)).status).toBe(204);
      return { orderId, transactionId: pay.transactions.get(outTradeNo)!.transactionId!, n };
    };

    it('an order of only virtual goods is completed by its payment and uploaded once as virtual (logistics_type 3)', async () => {
      const card = await product('Tea club membership', 'virtual');
      const voucher = await product('Tasting voucher', 'virtual');
      const { orderId, transactionId, n } = await payFor([card, voucher], false);
      expect(await s.status(alice, orderId)).toBe('completed');
      const timeline = await q(
        'SELECT from_status, to_status, actor FROM order_events WHERE order_id = ? ORDER BY id',
        [orderId],
      );
      expect(timeline).toEqual([
        { from_status: null, to_status: 'pending', actor: 'user' },
        { from_status: 'pending', to_status: 'paid', actor: 'payment' },
        { from_status: 'paid', to_status: 'completed', actor: 'payment' },
      ]);
      const [upload] = await until(
        async () => uploadsOf(transactionId).length > 0 && uploadsOf(transactionId),
        10_000,
      );
      expect(upload).toMatchObject({
        order_key: { order_number_type: 2, transaction_id: transactionId },
        logistics_type: 3,
        delivery_mode: 1,
        payer: { openid: alice.openid },
      });
      expect(upload.shipping_list).toEqual([{ item_desc: 'Tea club membership、Tasting voucher' }]);
      // WeChat Pay repeats its notification: nothing moves or uploads again.
      expect((await stack.app.http.post(NOTIFY).set(n.headers).send(n.body)).status).toBe(204);
      const delivered = await q(
        "SELECT id FROM outbox WHERE type = 'order.delivered' AND aggregate_id = ?",
        [String(orderId)],
      );
      expect(delivered).toHaveLength(1);
      await until(async () => (await processed(Number(delivered[0].id))) === 1, 10_000);
      expect(uploadsOf(transactionId)).toHaveLength(1);
      expect(
        await q('SELECT COUNT(*) AS n FROM order_events WHERE order_id = ?', [orderId]),
      ).toEqual([{ n: '3' }]);
      // Completed by the payment: there is nothing left to ship.
      expect((await s.ship(admin, orderId, {})).status).toBe(409);
    });

    it('an order mixing virtual and express goods stays paid until it is shipped', async () => {
      const card = await product('Gift card', 'virtual');
      const tea = await product('Dianhong 100g', 'express');
      const { orderId } = await payFor([card, tea], true);
      expect(await s.status(alice, orderId)).toBe('paid');
      expect(
        await q(
          "SELECT COUNT(*) AS n FROM outbox WHERE type = 'order.delivered' AND aggregate_id = ?",
          [String(orderId)],
        ),
      ).toEqual([{ n: '0' }]);
    });
  });
});

describe('the reconcile and auto-complete sweepers, with Redis flushed', () => {
  let redis: OwnRedisServer;
  let db: TestDatabase;
  let wx: FakeWechat;
  let pay: FakeWechatPay;
  let app: TestApp;
  const s = shop(
    () => app,
    () => wx,
    () => pay,
  );

  beforeAll(async () => {
    redis = await OwnRedisServer.start();
    db = await createTestDatabase();
    wx = await startFakeWechat();
    pay = await startFakeWechatPay();
    app = await startTestApp({
      ...baseEnv(db.url, `t${uniqueSuffix()}:`),
      ...pay.env(),
      REDIS_URL: redis.url,
      WECHAT_API_BASE_URL: wx.url,
      LOG_LEVEL: 'error',
      ADMIN_OPENIDS: ADMIN,
      PAYMENT_RECONCILE_AFTER_S: '2',
      // 2.6 s after shipping.
      ORDER_AUTO_COMPLETE_DAYS: '0.00003',
      ORDER_SWEEP_INTERVAL_MS: '500',
    });
  });
  afterAll(async () => {
    await app?.close();
    await pay?.close();
    await wx?.close();
    await db?.drop();
    await redis?.down();
  });

  const published = (type: string, orderId: number) =>
    until(async () => {
      const [row] = await db.dataSource.query(
        'SELECT published_at AS p FROM outbox WHERE type = ? AND aggregate_id = ?',
        [type, String(orderId)],
      );
      return row?.p ? true : undefined;
    }, 5000);
  const loseEveryJob = async () => {
    const flusher = new Redis(redis.url);
    await flusher.flushall();
    flusher.disconnect();
  };
  const processedBy = async (consumer: string) =>
    Number(
      (
        await db.dataSource.query('SELECT COUNT(*) AS n FROM processed_events WHERE consumer = ?', [
          consumer,
        ])
      )[0].n,
    );

  it('applies a payment WeChat Pay reports although no notification came and the reconcile job is gone', async () => {
    const admin = await loginAs(app, wx, { admin: true });
    const user = await loginAs(app, wx);
    const { orderId, outTradeNo } = await s.prepaid(admin, user);
    await published('payment.prepaid', orderId);
    await loseEveryJob();
    // The user pays; WeChat Pay's notification is lost.
    pay.pay(outTradeNo);
    await until(async () => {
      const [row] = await db.dataSource.query('SELECT status FROM orders WHERE id = ?', [orderId]);
      return row.status === 'paid';
    }, 10_000);
    const [payment] = await db.dataSource.query(
      'SELECT transaction_id, paid_cents FROM order_payments WHERE order_id = ?',
      [orderId],
    );
    expect(payment).toEqual({
      transaction_id: pay.transactions.get(outTradeNo)!.transactionId,
      paid_cents: 1200,
    });
    expect(await processedBy('payments.reconcile')).toBe(0);
  });

  it('completes an overdue shipped order although its auto-complete job is gone', async () => {
    const admin = await loginAs(app, wx, { admin: true });
    const user = await loginAs(app, wx);
    const { orderId } = await s.paid(admin, user);
    expect((await s.ship(admin, orderId, { carrier: 'SF', trackingNo: 'SF-S' })).status).toBe(200);
    await published('order.shipped', orderId);
    await loseEveryJob();
    await until(async () => {
      const [row] = await db.dataSource.query('SELECT status FROM orders WHERE id = ?', [orderId]);
      return row.status === 'completed';
    }, 10_000);
    expect(await processedBy('payments.auto-complete')).toBe(0);
  });

  it('sweeps racing on one due order complete it once', async () => {
    const admin = await loginAs(app, wx, { admin: true });
    const user = await loginAs(app, wx);
    const { orderId } = await s.paid(admin, user);
    expect((await s.ship(admin, orderId, {})).status).toBe(200);
    const jobs = app.app.get(PaymentJobs);
    let completions = 0;
    await until(async () => {
      const results = await Promise.all(Array.from({ length: 6 }, () => jobs.autoCompleteSweep()));
      completions += results.reduce((a, b) => a + b, 0);
      return (await s.status(user, orderId)) === 'completed';
    }, 10_000);
    // The background sweeper or the job may have won; no two sweeps both did.
    expect(completions).toBeLessThanOrEqual(1);
  });
});
