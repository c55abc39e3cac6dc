import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { OutboxWriter } from '../src/infra/queue/index.js';
import { Transactions } from '../src/infra/transactions/index.js';
import { ORDER_EVENTS, orderEvent } from '../src/modules/orders/index.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { useStack } from './helpers/stack.js';
import { sleep, until } from './helpers/until.js';

const QUEUE = 'notifications.subscribe-messages';
const TPL = {
  paid: 'tplPaid_0001-abc',
  shipped: 'tplShipped_0002',
  refunded: 'tplRefunded_0003',
  timeout: 'tplTimeout_0004',
};
const LONG_NAME = 'Menghai aged ripe Pu-erh tea cake 357g';

describe('subscribe messages (MariaDB + Redis, BullMQ, fake WeChat)', () => {
  const stack = useStack({
    env: {
      LOG_LEVEL: 'warn',
      ADMIN_OPENIDS: 'admin-openid',
      ORDER_PAYMENT_TIMEOUT_S: '1',
      ORDER_SWEEP_INTERVAL_MS: '60000',
      WECHAT_SUBSCRIBE_TEMPLATE_ORDER_PAID: TPL.paid,
      WECHAT_SUBSCRIBE_FIELDS_ORDER_PAID:
        'character_string1=orderNo,thing2=productName,amount3=total,phrase4=status,date5=time',
      WECHAT_SUBSCRIBE_TEMPLATE_ORDER_SHIPPED: TPL.shipped,
      WECHAT_SUBSCRIBE_FIELDS_ORDER_SHIPPED: 'thing1=carrier,character_string2=trackingNo',
      WECHAT_SUBSCRIBE_TEMPLATE_ORDER_REFUNDED: TPL.refunded,
      WECHAT_SUBSCRIBE_FIELDS_ORDER_REFUNDED: 'amount1=refund,thing2=productName',
      WECHAT_SUBSCRIBE_TEMPLATE_ORDER_TIMEOUT: TPL.timeout,
      WECHAT_SUBSCRIBE_FIELDS_ORDER_TIMEOUT: 'character_string1=orderNo,thing2=reason',
      WECHAT_SUBSCRIBE_STATE: 'developer',
      WECHAT_SUBSCRIBE_PAGE: 'pages/order/detail?id={orderId}',
    },
  });
  let admin: LoggedIn;
  let productA: number;
  let productB: number;
  const auth = (who: LoggedIn) => ({ Authorization: `Bearer ${who.accessToken}` });

  beforeAll(async () => {
    for (const id of Object.values(TPL)) stack.wx.templates.add(id);
    admin = await loginAs(stack.app, stack.wx, { admin: true });
    const product = async (name: string) => {
      const res = await stack.app.http
        .post('/api/v1/admin/products')
        .set(auth(admin))
        .send({ name, priceCents: 1250, stock: 1000 });
      expect(res.status).toBe(201);
      return res.body.data.id as number;
    };
    productA = await product(LONG_NAME);
    productB = await product('Oolong');
  });

  const accept = (who: LoggedIn, accepted: unknown) =>
    stack.app.http.post('/api/v1/users/me/subscriptions').set(auth(who)).send({ accepted });

  /** The user accepts in the mini-program: WeChat grants one message, the client tells us. */
  async function subscribe(who: LoggedIn, templateId: string, times = 1) {
    for (let i = 0; i < times; i++) {
      stack.wx.acceptSubscription(who.openid, templateId);
      expect((await accept(who, [templateId])).status).toBe(200);
    }
  }

  async function place(who: LoggedIn, items = [{ productId: productA, quantity: 1 }]) {
    const res = await stack.app.http
      .post('/api/v1/orders')
      .set(auth(who))
      .set('Idempotency-Key', `k-${randomBytes(8).toString('hex')}`)
      .send({ items });
    expect(res.status).toBe(201);
    return res.body.data as { id: number; totalCents: number };
  }

  /** Writes an event through the OutboxWriter in a transaction, as the payment flow does. */
  async function emit(type: string, payload: { orderId: number } & Record<string, unknown>) {
    const outbox = stack.app.app.get(OutboxWriter);
    await stack.app.app
      .get(Transactions)
      .run((m) => outbox.append(m, orderEvent(type as never, payload)));
    const [row] = await stack.db.dataSource.query(
      'SELECT MAX(id) AS id FROM outbox WHERE type = ? AND aggregate_id = ?',
      [type, String(payload.orderId)],
    );
    return Number(row.id);
  }

  const processed = async (eventId: number) =>
    Number(
      (
        await stack.db.dataSource.query(
          'SELECT COUNT(*) AS n FROM processed_events WHERE consumer = ? AND event_id = ?',
          [QUEUE, eventId],
        )
      )[0].n,
    );

  const credits = async (who: LoggedIn, templateId: string) => {
    const rows = await stack.db.dataSource.query(
      'SELECT credits FROM subscribe_credits WHERE user_id = ? AND template_id = ?',
      [who.user.id, templateId],
    );
    return rows.length === 0 ? null : Number(rows[0].credits);
  };

  /** The dead letter of the event, as admins list it (waits for it). */
  const deadLetter = (eventId: number) =>
    until(async () => {
      const res = await stack.app.http
        .get(`/api/v1/admin/queues/${QUEUE}/dead-letters`)
        .set(auth(admin));
      const items = res.body.data.items as {
        event: { id: number };
        failedReason: string;
        attempts: number;
      }[];
      return items.find((l) => l.event.id === eventId);
    }, 10_000);

  const messagesTo = (who: LoggedIn) =>
    stack.wx.subscribeMessages.filter((m) => m.touser === who.openid);

  describe('POST /users/me/subscriptions', () => {
    it('stores one credit per acceptance, adding up, and answers the counts', async () => {
      const user = await loginAs(stack.app, stack.wx);
      const first = await accept(user, [TPL.paid, TPL.timeout]);
      expect(first.status).toBe(200);
      expect(first.body.data.items).toEqual([
        { templateId: TPL.paid, topic: 'order_paid', credits: 1 },
        { templateId: TPL.timeout, topic: 'order_timeout', credits: 1 },
      ]);
      const again = await accept(user, [TPL.paid]);
      expect(again.body.data.items).toEqual([
        { templateId: TPL.paid, topic: 'order_paid', credits: 2 },
      ]);
      expect(await credits(user, TPL.paid)).toBe(2);
      expect(await credits(user, TPL.timeout)).toBe(1);
    });

    it('counts every acceptance of concurrent requests once', async () => {
      const user = await loginAs(stack.app, stack.wx);
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => accept(user, [TPL.shipped])),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
      expect(await credits(user, TPL.shipped)).toBe(8);
    });

    it('refuses a template id that is not configured with 400 naming it, and stores none of the request', async () => {
      const user = await loginAs(stack.app, stack.wx);
      const res = await accept(user, [TPL.paid, 'someOtherTemplate']);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(40000);
      expect(res.body.data.errors).toEqual([
        { field: 'accepted[1]', message: expect.stringContaining('someOtherTemplate') },
      ]);
      expect(await credits(user, TPL.paid)).toBeNull();
    });

    it('refuses what is not a list of distinct template ids with 400, and anonymous callers with 401', async () => {
      const user = await loginAs(stack.app, stack.wx);
      for (const bad of [
        undefined,
        'tpl',
        [1],
        [TPL.paid, TPL.paid],
        ['bad id!'],
        Array(11).fill('x'),
      ]) {
        const res = await accept(user, bad);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe(40000);
      }
      expect(await credits(user, TPL.paid)).toBeNull();
      const anonymous = await stack.app.http
        .post('/api/v1/users/me/subscriptions')
        .send({ accepted: [TPL.paid] });
      expect(anonymous.status).toBe(401);
    });
  });

  describe('order events become messages', () => {
    it('order.paid sends one message with the mapped data, cut to WeChat limits, and spends the credit', async () => {
      const user = await loginAs(stack.app, stack.wx);
      await subscribe(user, TPL.paid);
      const order = await place(user, [
        { productId: productA, quantity: 2 },
        { productId: productB, quantity: 1 },
      ]);
      const eventId = await emit(ORDER_EVENTS.paid, {
        orderId: order.id,
        userId: user.user.id,
        totalCents: order.totalCents,
      });
      await until(async () => messagesTo(user).length === 1, 10_000);
      const [message] = messagesTo(user);
      expect(message).toMatchObject({
        template_id: TPL.paid,
        page: `pages/order/detail?id=${order.id}`,
        miniprogram_state: 'developer',
        lang: 'zh_CN',
      });
      const data = message.data as Record<string, { value: string }>;
      expect(data.character_string1.value).toBe(String(order.id));
      // 20 characters at most: the name is cut (…) so that the count fits.
      expect(data.thing2.value).toBe('Menghai aged ri… 等2件');
      expect(Array.from(data.thing2.value)).toHaveLength(20);
      expect(data.amount3.value).toBe('¥37.50');
      expect(data.phrase4.value).toBe('已支付');
      expect(data.date5.value).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$/);
      // WeChat has the message before our transaction commits: wait for the commit.
      await until(async () => (await processed(eventId)) === 1, 10_000);
      expect(await credits(user, TPL.paid)).toBe(0);
    });

    it('a redelivered event sends nothing more and spends nothing more', async () => {
      const user = await loginAs(stack.app, stack.wx);
      await subscribe(user, TPL.paid, 2);
      const order = await place(user);
      const eventId = await emit(ORDER_EVENTS.paid, { orderId: order.id, userId: user.user.id });
      await until(async () => messagesTo(user).length === 1, 10_000);
      // Redelivery: the job is gone from the queue and the relay publishes the row again.
      const queue = new Queue(QUEUE, {
        connection: { host: '127.0.0.1', port: 6379 },
        prefix: `${stack.app.config.redis!.keyPrefix}bull`,
      });
      await until(async () => (await queue.getJobState(`e${eventId}`)) === 'completed', 10_000);
      await queue.clean(0, 100_000, 'completed');
      await stack.db.dataSource.query('UPDATE outbox SET published_at = NULL WHERE id = ?', [
        eventId,
      ]);
      await until(async () => {
        const [row] = await stack.db.dataSource.query(
          'SELECT published_at FROM outbox WHERE id = ?',
          [eventId],
        );
        return row.published_at !== null;
      }, 10_000);
      await queue.close();
      await until(async () => {
        const metrics = (await stack.app.http.get('/metrics')).text;
        return /queue_job_duration_seconds_count\{queue="notifications.subscribe-messages",outcome="duplicate"\} [1-9]/.test(
          metrics,
        );
      }, 10_000);
      expect(messagesTo(user)).toHaveLength(1);
      expect(await credits(user, TPL.paid)).toBe(1);
    });

    it('two events racing for one credit send exactly one message', async () => {
      const user = await loginAs(stack.app, stack.wx);
      stack.wx.acceptSubscription(user.openid, TPL.paid);
      await subscribe(user, TPL.paid);
      const orders = [await place(user), await place(user), await place(user)];
      const ids = await Promise.all(
        orders.map((o) => emit(ORDER_EVENTS.paid, { orderId: o.id, userId: user.user.id })),
      );
      await until(
        async () => (await Promise.all(ids.map(processed))).every((n) => n === 1),
        10_000,
      );
      expect(messagesTo(user)).toHaveLength(1);
      expect(await credits(user, TPL.paid)).toBe(0);
    });

    it('without a credit there is no message and no call to WeChat', async () => {
      const user = await loginAs(stack.app, stack.wx);
      const order = await place(user);
      const calls = stack.wx.counts.subscribeSend;
      const eventId = await emit(ORDER_EVENTS.paid, { orderId: order.id, userId: user.user.id });
      await until(async () => (await processed(eventId)) === 1, 10_000);
      expect(stack.wx.counts.subscribeSend).toBe(calls);
      expect(await credits(user, TPL.paid)).toBeNull();
    });

    it('43101 (WeChat holds no credit for the user) spends ours and is not retried', async () => {
      const user = await loginAs(stack.app, stack.wx);
      // Our credit, but none at WeChat: WeChat answers 43101.
      expect((await accept(user, [TPL.paid])).status).toBe(200);
      const order = await place(user);
      const calls = stack.wx.counts.subscribeSend;
      const eventId = await emit(ORDER_EVENTS.paid, { orderId: order.id, userId: user.user.id });
      await until(async () => (await processed(eventId)) === 1, 10_000);
      expect(stack.wx.counts.subscribeSend).toBe(calls + 1);
      expect(await credits(user, TPL.paid)).toBe(0);
      await sleep(2500);
      expect(stack.wx.counts.subscribeSend).toBe(calls + 1);
      expect(messagesTo(user)).toHaveLength(0);
    });

    it("47003 (bad data) fails the job at once into the dead letters with WeChat's message; the credit stays", async () => {
      const user = await loginAs(stack.app, stack.wx);
      await subscribe(user, TPL.paid);
      const order = await place(user);
      const calls = stack.wx.counts.subscribeSend;
      stack.wx.subscribeErrcode = 47003;
      try {
        const eventId = await emit(ORDER_EVENTS.paid, { orderId: order.id, userId: user.user.id });
        const letter = await deadLetter(eventId);
        expect(letter).toMatchObject({ attempts: 1 });
        expect(letter.failedReason).toMatch(
          /errcode 47003 argument invalid! data\.thing2\.value invalid rid: /,
        );
        expect(stack.wx.counts.subscribeSend).toBe(calls + 1);
        expect(await processed(eventId)).toBe(0);
        expect(await credits(user, TPL.paid)).toBe(1);
      } finally {
        stack.wx.subscribeErrcode = undefined;
      }
      // The dead letter holds nothing back: a later event of the order is sent.
      await subscribe(user, TPL.shipped);
      await emit(ORDER_EVENTS.shipped, { orderId: order.id, userId: user.user.id });
      await until(async () => messagesTo(user).length === 1, 10_000);
      expect(messagesTo(user)[0].template_id).toBe(TPL.shipped);
    });

    it('40037 (WeChat does not know the configured template) dead-letters at once and keeps the credit', async () => {
      const user = await loginAs(stack.app, stack.wx);
      await subscribe(user, TPL.paid);
      const order = await place(user);
      stack.wx.templates.delete(TPL.paid);
      try {
        const eventId = await emit(ORDER_EVENTS.paid, { orderId: order.id, userId: user.user.id });
        const letter = await deadLetter(eventId);
        expect(letter.failedReason).toMatch(/errcode 40037 invalid template id/);
        expect(await credits(user, TPL.paid)).toBe(1);
        expect(messagesTo(user)).toHaveLength(0);
      } finally {
        stack.wx.templates.add(TPL.paid);
      }
    });

    it.each([40001, 42001, 40014])(
      'a dead access_token (%i) is refreshed and the message sent on the one retry',
      async (errcode) => {
        const user = await loginAs(stack.app, stack.wx);
        await subscribe(user, TPL.paid);
        const order = await place(user);
        const calls = stack.wx.counts.subscribeSend;
        const tokens = stack.wx.counts.stableToken;
        stack.wx.invalidateAccessToken(errcode);
        const eventId = await emit(ORDER_EVENTS.paid, { orderId: order.id, userId: user.user.id });
        await until(async () => (await processed(eventId)) === 1, 10_000);
        expect(messagesTo(user)).toHaveLength(1);
        expect(stack.wx.counts.subscribeSend).toBe(calls + 2);
        expect(stack.wx.counts.stableToken).toBe(tokens + 1);
        expect(await credits(user, TPL.paid)).toBe(0);
      },
    );

    it('-1 (WeChat busy) rolls back and retries until it is sent once', async () => {
      const user = await loginAs(stack.app, stack.wx);
      await subscribe(user, TPL.paid);
      const order = await place(user);
      const calls = stack.wx.counts.subscribeSend;
      stack.wx.subscribeErrcode = -1;
      const eventId = await emit(ORDER_EVENTS.paid, { orderId: order.id, userId: user.user.id });
      await until(async () => stack.wx.counts.subscribeSend > calls, 10_000);
      expect(await credits(user, TPL.paid)).toBe(1);
      stack.wx.subscribeErrcode = undefined;
      await until(async () => (await processed(eventId)) === 1, 15_000);
      expect(messagesTo(user)).toHaveLength(1);
      expect(await credits(user, TPL.paid)).toBe(0);
    }, 20_000);

    it('order.shipped and order.refunded use their own templates and fields', async () => {
      const user = await loginAs(stack.app, stack.wx);
      await subscribe(user, TPL.shipped);
      await subscribe(user, TPL.refunded);
      const order = await place(user);
      await emit(ORDER_EVENTS.shipped, {
        orderId: order.id,
        userId: user.user.id,
        carrier: '顺丰速运',
        trackingNo: 'SF1234567890',
        shippedAt: new Date().toISOString(),
      });
      await emit(ORDER_EVENTS.refunded, { orderId: order.id, refundCents: 500 });
      await until(async () => messagesTo(user).length === 2, 10_000);
      const byTemplate = (id: string) => messagesTo(user).find((m) => m.template_id === id);
      const [shipped, refunded] = [byTemplate(TPL.shipped), byTemplate(TPL.refunded)];
      expect(shipped).toMatchObject({
        template_id: TPL.shipped,
        data: { thing1: { value: '顺丰速运' }, character_string2: { value: 'SF1234567890' } },
      });
      expect(refunded).toMatchObject({
        template_id: TPL.refunded,
        data: { amount1: { value: '¥5.00' } },
      });
    });

    it('an order closed by the payment timeout sends the timeout message; a user cancel does not', async () => {
      const user = await loginAs(stack.app, stack.wx);
      await subscribe(user, TPL.timeout, 2);
      const cancelled = await place(user);
      const res = await stack.app.http
        .post(`/api/v1/orders/${cancelled.id}/cancel`)
        .set(auth(user));
      expect(res.status).toBe(200);
      const timedOut = await place(user);
      await until(async () => messagesTo(user).length === 1, 10_000);
      expect(messagesTo(user)[0]).toMatchObject({
        template_id: TPL.timeout,
        page: `pages/order/detail?id=${timedOut.id}`,
        data: {
          character_string1: { value: String(timedOut.id) },
          thing2: { value: '超时未支付' },
        },
      });
      await sleep(1500);
      expect(messagesTo(user)).toHaveLength(1);
      expect(await credits(user, TPL.timeout)).toBe(1);
    });
  });
});
