import { randomBytes } from 'node:crypto';
import { Transactions } from '../src/infra/transactions/index.js';
import {
  ORDER_ACTORS,
  ORDER_STATUSES,
  ORDER_TRANSITIONS,
  OrderTransitions,
  OrdersService,
  TransitionRefused,
  isAllowed,
  type OrderActor,
  type OrderStatus,
} from '../src/modules/orders/index.js';
import { outTradeNoOf } from '../src/modules/payments/trade-numbers.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { addressIdOf } from './helpers/addresses.js';
import { startFakeWechatPay, type FakeWechatPay } from './helpers/fake-wechat-pay.js';
import { useStack } from './helpers/stack.js';
import { until } from './helpers/until.js';

const ADMIN = 'state-machine-admin';
const NOTIFY = '/api/v1/payments/wechat/notify';
const RACERS = 8;

interface TimelineRow {
  from_status: string | null;
  to_status: string;
  actor: string;
  actor_id: number | null;
  reason: string | null;
}

describe('the order state machine (MariaDB)', () => {
  let pay: FakeWechatPay;
  beforeAll(async () => {
    pay = await startFakeWechatPay();
  });
  afterAll(() => pay.close());

  const stack = useStack({
    env: () => ({ ...pay.env(), LOG_LEVEL: 'error', ADMIN_OPENIDS: ADMIN }),
  });
  let admin: LoggedIn;
  let alice: LoggedIn;
  beforeAll(async () => {
    admin = await loginAs(stack.app, stack.wx, { admin: true });
    alice = await loginAs(stack.app, stack.wx);
  });

  const q = <T = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    stack.db.dataSource.query(sql, params) as Promise<T[]>;
  const as = (user: LoggedIn) => ({ Authorization: `Bearer ${user.accessToken}` });
  const transitions = () => stack.app.app.get(OrderTransitions);
  const inTransaction = <T>(work: Parameters<Transactions['run']>[0]) =>
    stack.app.app.get(Transactions).run(work) as Promise<T>;

  /** Setup only: an order row in `status`, written directly. */
  async function orderIn(status: OrderStatus): Promise<number> {
    const key = `sm-${randomBytes(8).toString('hex')}`;
    await q(
      'INSERT INTO orders (user_id, status, total_cents, idempotency_key, request_hash, pay_before, refunded_cents) ' +
        'VALUES (?, ?, 1000, ?, ?, ?, 0)',
      [alice.user.id, status, key, '0'.repeat(64), new Date(Date.now() + 3600_000)],
    );
    const [row] = await q<{ id: number }>('SELECT id FROM orders WHERE idempotency_key = ?', [key]);
    return Number(row.id);
  }
  const statusOf = async (orderId: number) =>
    (await q<{ status: string }>('SELECT status FROM orders WHERE id = ?', [orderId]))[0].status;
  const timeline = (orderId: number) =>
    q<TimelineRow>(
      'SELECT from_status, to_status, actor, actor_id, reason FROM order_events WHERE order_id = ? ORDER BY id',
      [orderId],
    );

  const allowed = ORDER_TRANSITIONS.filter((t) => t.from !== null).flatMap((t) =>
    t.actors.map((actor) => ({ from: t.from as OrderStatus, to: t.to, actor })),
  );

  it.each(allowed)(
    '$from → $to by $actor happens once when $actor fires it from 8 transactions at once',
    async ({ from, to, actor }) => {
      const orderId = await orderIn(from);
      const results = await Promise.all(
        Array.from({ length: RACERS }, () =>
          inTransaction<boolean>((m) =>
            transitions().apply(m, { orderId, from, to, actor, reason: 'race' }),
          ),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await statusOf(orderId)).toBe(to);
      expect(await timeline(orderId)).toEqual([
        { from_status: from, to_status: to, actor, actor_id: null, reason: 'race' },
      ]);
    },
  );

  it('a settled refund adds to refunded_cents once and picks refunded or the resume status', async () => {
    const partial = await orderIn('refunding');
    const full = await orderIn('refunding');
    const settle = (orderId: number, amount: number) =>
      Promise.all(
        Array.from({ length: RACERS }, () =>
          inTransaction<boolean>((m) =>
            transitions().settleRefund(m, { orderId, amount, paidCents: 1000, resume: 'shipped' }),
          ),
        ),
      );
    expect((await settle(partial, 300)).filter(Boolean)).toHaveLength(1);
    expect((await settle(full, 1000)).filter(Boolean)).toHaveLength(1);
    const rows = await q<{ id: number; status: string; refunded_cents: number }>(
      'SELECT id, status, refunded_cents FROM orders WHERE id IN (?, ?) ORDER BY id',
      [partial, full],
    );
    expect(rows.map((r) => [r.status, Number(r.refunded_cents)])).toEqual([
      ['shipped', 300],
      ['refunded', 1000],
    ]);
    expect((await timeline(partial)).map((r) => r.to_status)).toEqual(['shipped']);
    expect((await timeline(full)).map((r) => r.to_status)).toEqual(['refunded']);
  });

  it('refuses every (from, to, actor) outside the table and changes nothing', async () => {
    let refused = 0;
    for (const from of ORDER_STATUSES) {
      const orderId = await orderIn(from);
      for (const to of ORDER_STATUSES) {
        for (const actor of ORDER_ACTORS) {
          if (isAllowed(from, to, actor)) continue;
          await expect(
            inTransaction((m) => transitions().apply(m, { orderId, from, to, actor })),
          ).rejects.toBeInstanceOf(TransitionRefused);
          refused++;
        }
      }
      expect(await statusOf(orderId)).toBe(from);
      expect(await timeline(orderId)).toEqual([]);
    }
    expect(refused).toBe(ORDER_STATUSES.length ** 2 * ORDER_ACTORS.length - allowed.length);
  });

  it('places an order only as the buyer or the flash sale', async () => {
    const orderId = await orderIn('pending');
    const placers = ORDER_TRANSITIONS.find((t) => t.from === null)?.actors ?? [];
    expect([...placers].sort()).toEqual(['flash_sale', 'user']);
    for (const actor of ORDER_ACTORS.filter((a) => !placers.includes(a))) {
      await expect(
        inTransaction((m) =>
          transitions().placed(m, [
            { orderId, actor: actor as OrderActor, actorId: null, createdAt: new Date() },
          ]),
        ),
      ).rejects.toBeInstanceOf(TransitionRefused);
    }
    expect(await timeline(orderId)).toEqual([]);
  });

  async function product(stock = 20): Promise<number> {
    const res = await stack.app.http
      .post('/api/v1/admin/products')
      .set(as(admin))
      .send({ name: `Tieguanyin ${randomBytes(3).toString('hex')}`, priceCents: 1000, stock });
    expect(res.status).toBe(201);
    return res.body.data.id as number;
  }

  it('null → pending by user: one order and one timeline row when one key is raced 8 times', async () => {
    const productId = await product();
    const key = `sm-${randomBytes(8).toString('hex')}`;
    const answers = await Promise.all(
      Array.from({ length: RACERS }, () =>
        stack.app.http
          .post('/api/v1/orders')
          .set(as(alice))
          .set('Idempotency-Key', key)
          .send({ items: [{ productId, quantity: 1 }] }),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(RACERS - 1);
    expect(new Set(answers.map((a) => a.body.data.id as number)).size).toBe(1);
    const orderId = answers[0].body.data.id as number;
    expect(await timeline(orderId)).toEqual([
      {
        from_status: null,
        to_status: 'pending',
        actor: 'user',
        actor_id: alice.user.id,
        reason: null,
      },
    ]);
  });

  it('null → pending by flash_sale: one of 8 batches placing the same order commits, with one timeline row', async () => {
    const ticket = `sm-${randomBytes(8).toString('hex')}`;
    const orders = stack.app.app.get(OrdersService);
    const results = await Promise.allSettled(
      Array.from({ length: RACERS }, () =>
        inTransaction<number[]>((m) =>
          orders.placeBatch(
            m,
            [
              {
                userId: alice.user.id,
                idempotencyKey: ticket,
                requestHash: 'f'.repeat(64),
                lines: [{ productId: 1, productName: 'flash', unitPriceCents: 500, quantity: 1 }],
              },
            ],
            'flash_sale',
          ),
        ),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const [orderId] = (won[0] as PromiseFulfilledResult<number[]>).value;
    expect(await statusOf(orderId)).toBe('pending');
    expect(await timeline(orderId)).toEqual([
      {
        from_status: null,
        to_status: 'pending',
        actor: 'flash_sale',
        actor_id: null,
        reason: null,
      },
    ]);
  });

  it('place → pay in the sandbox → ship → refund leaves that timeline, each step by its actor', async () => {
    const productId = await product();
    const placed = await stack.app.http
      .post('/api/v1/orders')
      .set(as(alice))
      .set('Idempotency-Key', `sm-${randomBytes(8).toString('hex')}`)
      .send({
        items: [{ productId, quantity: 1 }],
        addressId: await addressIdOf(stack.app, alice),
      });
    expect(placed.status).toBe(201);
    const orderId = placed.body.data.id as number;
    const outTradeNo = outTradeNoOf(orderId);
    expect(
      (await stack.app.http.post(`/api/v1/orders/${orderId}/payment`).set(as(alice))).status,
    ).toBe(200);
    pay.pay(outTradeNo);
    const paid = pay.transactionNotification(outTradeNo);
    expect((await stack.app.http.post(NOTIFY).set(paid.headers).send(paid.body)).status).toBe(204);
    const shipped = await stack.app.http
      .post(`/api/v1/admin/orders/${orderId}/ship`)
      .set(as(admin))
      .send({ carrier: 'SF Express', trackingNo: 'SF1234567890' });
    expect(shipped.status).toBe(200);
    const refunding = await stack.app.http
      .post(`/api/v1/admin/orders/${orderId}/refund`)
      .set(as(admin))
      .set('Idempotency-Key', `sm-${randomBytes(8).toString('hex')}`)
      .send({ reason: 'damaged in transit' });
    expect(refunding.body.data.status).toBe('refunding');
    const [{ out_refund_no: outRefundNo }] = await q<{ out_refund_no: string }>(
      'SELECT out_refund_no FROM order_refunds WHERE order_id = ?',
      [orderId],
    );
    // The refund job asks WeChat Pay first.
    await until(async () => pay.refunds.get(outRefundNo), 10_000);
    pay.settleRefund(outRefundNo);
    const settled = pay.refundNotification(outRefundNo);
    expect((await stack.app.http.post(NOTIFY).set(settled.headers).send(settled.body)).status).toBe(
      204,
    );
    expect(await statusOf(orderId)).toBe('refunded');
    expect(await timeline(orderId)).toEqual([
      {
        from_status: null,
        to_status: 'pending',
        actor: 'user',
        actor_id: alice.user.id,
        reason: null,
      },
      {
        from_status: 'pending',
        to_status: 'paid',
        actor: 'payment',
        actor_id: null,
        reason: 'WeChat Pay notify',
      },
      {
        from_status: 'paid',
        to_status: 'shipped',
        actor: 'staff',
        actor_id: admin.user.id,
        reason: 'SF Express',
      },
      {
        from_status: 'shipped',
        to_status: 'refunding',
        actor: 'staff',
        actor_id: admin.user.id,
        reason: 'damaged in transit',
      },
      {
        from_status: 'refunding',
        to_status: 'refunded',
        actor: 'refund',
        actor_id: null,
        reason: 'refunded 1000 cents',
      },
    ]);
  });

  it('a user cancel and an admin cancel record who cancelled', async () => {
    const productId = await product();
    const place = async () =>
      (
        await stack.app.http
          .post('/api/v1/orders')
          .set(as(alice))
          .set('Idempotency-Key', `sm-${randomBytes(8).toString('hex')}`)
          .send({ items: [{ productId, quantity: 1 }] })
      ).body.data.id as number;
    const byUser = await place();
    const byAdmin = await place();
    expect(
      (await stack.app.http.post(`/api/v1/orders/${byUser}/cancel`).set(as(alice))).status,
    ).toBe(200);
    expect(
      (await stack.app.http.post(`/api/v1/admin/orders/${byAdmin}/cancel`).set(as(admin))).status,
    ).toBe(200);
    expect((await timeline(byUser))[1]).toEqual({
      from_status: 'pending',
      to_status: 'cancelled',
      actor: 'user',
      actor_id: alice.user.id,
      reason: 'user',
    });
    expect((await timeline(byAdmin))[1]).toEqual({
      from_status: 'pending',
      to_status: 'cancelled',
      actor: 'staff',
      actor_id: admin.user.id,
      reason: 'admin',
    });
  });
});
