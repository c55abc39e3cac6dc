import { randomBytes } from 'node:crypto';
import { outTradeNoOf } from '../src/modules/payments/trade-numbers.js';
import type { TestApp } from './helpers/app.js';
import { addressIdOf } from './helpers/addresses.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';
import { useStack } from './helpers/stack.js';
import { until } from './helpers/until.js';
import { WechatPusher, newAesKey, type SignedPush } from './helpers/wechat-pusher.js';

/**
 * WeChat's order-shipping service settling orders through /wechat/push:
 * real MariaDB, Redis and BullMQ, two replicas, sandbox payments.
 */
const PATH = '/api/v1/wechat/push';
const TOKEN = 'settleToken1';
const AES_KEY = newAesKey();
const ADMIN = 'settle-admin';
const QUEUE = 'payments.wechat-settlement';

describe('trade_manage_order_settlement', () => {
  const stack = useStack({
    apps: 2,
    env: {
      WECHAT_PUSH_TOKEN: TOKEN,
      WECHAT_PUSH_AES_KEY: AES_KEY,
      ADMIN_OPENIDS: ADMIN,
      OUTBOX_POLL_MS: '20',
      LOG_LEVEL: 'warn',
      WECHAT_ORDER_MESSAGE_PAGE: 'pages/order/detail',
    },
  });
  const pusher = new WechatPusher({ token: TOKEN, aesKey: AES_KEY, appId: 'wx-test-appid' });
  let admin: LoggedIn;
  let buyer: LoggedIn;
  beforeAll(async () => {
    admin = await loginAs(stack.app, stack.wx, { admin: true });
    buyer = await loginAs(stack.app, stack.wx);
  });
  const as = (u: LoggedIn) => ({ Authorization: `Bearer ${u.accessToken}` });
  const q = (sql: string, params: unknown[] = []) =>
    stack.db.dataSource.query(sql, params) as Promise<Record<string, unknown>[]>;
  const post = (app: TestApp, push: SignedPush) =>
    app.http.post(PATH).query(push.query).set('content-type', push.contentType).send(push.body);

  async function shippedOrder(): Promise<number> {
    const id = await paidOrder();
    const shipped = await stack.app.http
      .post(`/api/v1/admin/orders/${id}/ship`)
      .set(as(admin))
      .send({ carrier: 'SF', trackingNo: `SF${id}` });
    expect(shipped.body.data.status).toBe('shipped');
    return id;
  }

  async function paidOrder(): Promise<number> {
    const product = await stack.app.http
      .post('/api/v1/admin/products')
      .set(as(admin))
      .send({ name: 'Dianhong black tea', priceCents: 800, stock: 50 });
    const order = await stack.app.http
      .post('/api/v1/orders')
      .set(as(buyer))
      .set('Idempotency-Key', `settle-${randomBytes(6).toString('hex')}`)
      .send({
        items: [{ productId: product.body.data.id, quantity: 1 }],
        addressId: await addressIdOf(stack.app, buyer),
      });
    const id = order.body.data.id as number;
    expect((await stack.app.http.post(`/api/v1/orders/${id}/payment`).set(as(buyer))).status).toBe(
      200,
    );
    expect(
      (await stack.app.http.post(`/api/v1/dev/payments/${id}/succeed`).set(as(buyer))).status,
    ).toBe(200);
    return id;
  }

  let seq = 0;
  /** WeChat's message: a settlement (settled), the buyer's confirmation, or the notice at shipping. */
  function settlement(orderId: number, kind: 'settled' | 'confirmed' | 'at-shipping') {
    const now = Math.floor(Date.now() / 1000);
    seq++;
    return {
      ToUserName: 'gh_0123456789ab',
      FromUserName: 'o-wechat-system',
      CreateTime: now + seq,
      MsgType: 'event',
      Event: 'trade_manage_order_settlement',
      transaction_id: `4200000${orderId}`,
      merchant_id: '1900000109',
      merchant_trade_no: outTradeNoOf(orderId),
      pay_time: now - 100,
      shipped_time: now - 50,
      estimated_settlement_time: now + 86400 * 10,
      ...(kind === 'confirmed' ? { confirm_receive_method: 1, confirm_receive_time: now } : {}),
      ...(kind === 'settled' ? { confirm_receive_method: 2, settlement_time: now } : {}),
    };
  }

  const statusOf = async (orderId: number) =>
    (await q('SELECT status FROM orders WHERE id = ?', [orderId]))[0].status as string;
  const timeline = (orderId: number) =>
    q(
      'SELECT from_status, to_status, actor, reason FROM order_events WHERE order_id = ? AND to_status = ?',
      [orderId, 'completed'],
    );
  /** Waits until the consumer has taken every settlement event published so far. */
  const drained = () =>
    until(async () => {
      const [row] = await q(
        `SELECT COUNT(*) AS n FROM outbox o WHERE o.type = 'wechat.push.trade_manage_order_settlement'
           AND NOT EXISTS (SELECT 1 FROM processed_events p WHERE p.consumer = ? AND p.event_id = o.id)`,
        [QUEUE],
      );
      return Number(row.n) === 0;
    }, 15_000);

  it('the notice at shipping (estimated_settlement_time only) is recorded and changes nothing', async () => {
    const orderId = await shippedOrder();
    const res = await post(stack.app, pusher.push(settlement(orderId, 'at-shipping')));
    expect(res.text).toBe('success');
    await drained();
    expect(await statusOf(orderId)).toBe('shipped');
    const [stored] = await q(
      "SELECT COUNT(*) AS n FROM wechat_push_messages WHERE name = 'trade_manage_order_settlement'",
    );
    expect(Number(stored.n)).toBeGreaterThanOrEqual(1);
  });

  it('settles a shipped order once: the confirmation and the settlement, each repeated, racing on two replicas', async () => {
    const orderId = await shippedOrder();
    const confirmed = settlement(orderId, 'confirmed');
    const settled = settlement(orderId, 'settled');
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        post(
          stack.apps[i % 2],
          pusher.push(i % 3 === 0 ? confirmed : settled, { format: i % 2 ? 'xml' : 'json' }),
        ),
      ),
    );
    expect(answers.map((a) => a.text)).toEqual(Array(12).fill('success'));
    await drained();
    expect(await statusOf(orderId)).toBe('completed');
    const rows = await timeline(orderId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ from_status: 'shipped', actor: 'wechat' });
    expect(['buyer confirmed receipt in WeChat', 'settled by WeChat']).toContain(rows[0].reason);
    // Two WeChat messages, stored once each.
    const [stored] = await q(
      'SELECT COUNT(*) AS n FROM wechat_push_messages WHERE payload LIKE ?',
      [`%${outTradeNoOf(orderId)}%`],
    );
    expect(Number(stored.n)).toBe(2);
    const shown = await stack.app.http.get(`/api/v1/orders/${orderId}`).set(as(buyer));
    expect(shown.body.data.status).toBe('completed');
  });

  it("completes once when WeChat's settlement races the buyer's own confirm-receipt, on both replicas", async () => {
    const orderId = await shippedOrder();
    const settled = settlement(orderId, 'settled');
    const [pushed, confirms] = await Promise.all([
      Promise.all(
        Array.from({ length: 6 }, (_, i) => post(stack.apps[i % 2], pusher.push(settled))),
      ),
      Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          stack.apps[(i + 1) % 2].http
            .post(`/api/v1/orders/${orderId}/confirm-receipt`)
            .set(as(buyer)),
        ),
      ),
    ]);
    expect(pushed.map((a) => a.text)).toEqual(Array(6).fill('success'));
    // One confirm at most wins; the others (or all, if the push came first) find it completed.
    for (const c of confirms) expect([200, 409]).toContain(c.status);
    const buyerWon = confirms.filter((c) => c.status === 200).length;
    expect(buyerWon).toBeLessThanOrEqual(1);
    await drained();
    expect(await statusOf(orderId)).toBe('completed');
    const rows = await timeline(orderId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      from_status: 'shipped',
      actor: buyerWon === 1 ? 'user' : 'wechat',
    });
  });

  describe('POST /admin/orders/:id/wechat-reconcile (get_order)', () => {
    const reconcile = (orderId: number, who: LoggedIn = admin) =>
      stack.app.http.post(`/api/v1/admin/orders/${orderId}/wechat-reconcile`).set(as(who));
    const transactionOf = async (orderId: number) =>
      (await q('SELECT transaction_id FROM order_payments WHERE order_id = ?', [orderId]))[0]
        .transaction_id as string;

    it('completes, once, a shipped order WeChat holds as settled (a lost push)', async () => {
      const orderId = await shippedOrder();
      // Shipped as far as WeChat knows once the upload went through.
      await until(
        async () => (await reconcile(orderId)).body.data?.wechatState === 'shipped',
        10_000,
      );
      stack.wx.orderStates.set(await transactionOf(orderId), 4);
      const res = await reconcile(orderId);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({
        orderId,
        status: 'completed',
        wechatState: 'settled',
        completed: true,
      });
      const again = await reconcile(orderId);
      expect(again.body.data).toMatchObject({ status: 'completed', completed: false });
      expect(await timeline(orderId)).toEqual([
        expect.objectContaining({ actor: 'wechat', reason: 'reconciled: WeChat says settled' }),
      ]);
      // The completion was a staff write: one audit row, for the first call only.
      const audited = await q(
        "SELECT actor_id, action FROM audit_log WHERE target = ? AND action <> 'order.ship'",
        [`order:${orderId}`],
      );
      expect(audited).toEqual([{ actor_id: admin.user.id, action: 'order.reconcile' }]);
    });

    it('changes nothing while WeChat holds it shipped or does not know the payment', async () => {
      const orderId = await shippedOrder();
      stack.wx.orderStates.set(await transactionOf(orderId), 2);
      expect((await reconcile(orderId)).body.data).toMatchObject({
        status: 'shipped',
        wechatState: 'shipped',
        completed: false,
      });
      // Paid, never shipped: nothing was uploaded, WeChat answers 10060001.
      const paid = await paidOrder();
      expect((await reconcile(paid)).body.data).toMatchObject({
        status: 'paid',
        wechatState: 'unknown_payment',
        completed: false,
      });
    });

    it('has WeChat remind the buyer to confirm receipt of a shipped order, with the time', async () => {
      const orderId = await shippedOrder();
      const tx = await transactionOf(orderId);
      const uploaded = () =>
        stack.wx.shippingUploads.some(
          (u) => (u.order_key as { transaction_id?: string }).transaction_id === tx,
        );
      await until(async () => uploaded(), 10_000);
      const before = Math.floor(Date.now() / 1000);
      const res = await stack.app.http
        .post(`/api/v1/admin/orders/${orderId}/wechat-remind-receipt`)
        .set(as(admin));
      expect(res.status).toBe(200);
      expect(res.body.data.orderId).toBe(orderId);
      const sent = stack.wx.receiptReminders.find((r) => r.transaction_id === tx);
      expect(sent?.received_time).toBeGreaterThanOrEqual(before);
      expect(sent?.received_time).toBe(Math.floor(Date.parse(res.body.data.remindedAt) / 1000));
      const paid = await paidOrder();
      const early = await stack.app.http
        .post(`/api/v1/admin/orders/${paid}/wechat-remind-receipt`)
        .set(as(admin));
      expect([early.status, early.body.code]).toEqual([409, 40900]);
    });

    it('refuses an unpaid order (409), an unknown one (404), and non-admins (403)', async () => {
      const product = await stack.app.http
        .post('/api/v1/admin/products')
        .set(as(admin))
        .send({ name: 'Unpaid tea', priceCents: 100, stock: 5 });
      const order = await stack.app.http
        .post('/api/v1/orders')
        .set(as(buyer))
        .set('Idempotency-Key', `settle-${randomBytes(6).toString('hex')}`)
        .send({ items: [{ productId: product.body.data.id, quantity: 1 }] });
      expect((await reconcile(order.body.data.id as number)).status).toBe(409);
      expect((await reconcile(999_999)).status).toBe(404);
      expect((await reconcile(order.body.data.id as number, buyer)).status).toBe(403);
    });
  });

  it('leaves an order that is not shipped as it is, and ignores a trade number not ours', async () => {
    const product = await stack.app.http
      .post('/api/v1/admin/products')
      .set(as(admin))
      .send({ name: 'Pending tea', priceCents: 100, stock: 5 });
    const order = await stack.app.http
      .post('/api/v1/orders')
      .set(as(buyer))
      .set('Idempotency-Key', `settle-${randomBytes(6).toString('hex')}`)
      .send({ items: [{ productId: product.body.data.id, quantity: 1 }] });
    const pendingId = order.body.data.id as number;
    await post(stack.app, pusher.push(settlement(pendingId, 'settled')));
    await post(
      stack.app,
      pusher.push({ ...settlement(pendingId, 'settled'), merchant_trade_no: 'SOMEONE-ELSES-1' }),
    );
    await drained();
    expect(await statusOf(pendingId)).toBe('pending');
    expect(await timeline(pendingId)).toEqual([]);
  });
});

/** What /health/ready says of WeChat's order-shipping management, once WeChat answered. */
async function tradeManagement(app: TestApp) {
  return until(async () => {
    const res = await app.http.get('/health/ready');
    const detail = res.body.data.details.wechatTradeManagement as
      { status: string; managed: boolean | null; checkedAt: string | null } | undefined;
    return res.status === 200 && detail?.checkedAt ? detail : undefined;
  }, 10_000);
}

describe("WeChat's order-shipping management at boot", () => {
  describe('a managed account', () => {
    const stack = useStack({
      env: {
        WECHAT_PUSH_TOKEN: TOKEN,
        WECHAT_ORDER_MESSAGE_PAGE: 'pages/order/detail',
        LOG_LEVEL: 'warn',
      },
    });

    it('is asked is_trade_managed once and shown in /health/ready; the message page is set', async () => {
      expect(await tradeManagement(stack.app)).toMatchObject({ status: 'up', managed: true });
      expect(stack.wx.counts.tradeManaged).toBe(1);
      await until(async () => stack.wx.msgJumpPaths.length > 0, 5000);
      expect(stack.wx.msgJumpPaths).toEqual(['pages/order/detail']);
    });
  });

  describe('an account WeChat does not manage', () => {
    let wx: FakeWechat;
    beforeAll(async () => {
      wx = await startFakeWechat();
      wx.tradeManaged = false;
    });
    afterAll(() => wx.close());
    const stack = useStack({
      wechat: false,
      env: () => ({ WECHAT_API_BASE_URL: wx.url, WECHAT_PUSH_TOKEN: TOKEN, LOG_LEVEL: 'warn' }),
    });

    it('stays ready, says managed: false and warns once, and sets no message page', async () => {
      expect(await tradeManagement(stack.app)).toMatchObject({ status: 'up', managed: false });
      const warnings = stack.app.logs.filter((l) =>
        String(l.message).includes('is_trade_managed false'),
      );
      expect(warnings).toHaveLength(1);
      expect(wx.msgJumpPaths).toEqual([]);
    });
  });

  describe('a shop with neither WeChat Pay nor the push server', () => {
    const stack = useStack({ env: { LOG_LEVEL: 'warn' } });

    it('asks nothing and reports nothing', async () => {
      // The database ping has 1 s: on a loaded machine the first probe may miss it.
      const res = await until(async () => {
        const probe = await stack.app.http.get('/health/ready');
        return probe.status === 200 ? probe : undefined;
      }, 10_000);
      expect(Object.keys(res.body.data.details as object).sort()).toEqual(['database', 'redis']);
      expect(stack.wx.counts.tradeManaged).toBe(0);
    });
  });
});
