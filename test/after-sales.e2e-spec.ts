import { randomBytes } from 'node:crypto';
import type { Test } from 'supertest';
import { Transactions } from '../src/infra/transactions/index.js';
import { OrdersService } from '../src/modules/orders/index.js';
import { FulfilmentService } from '../src/modules/payments/fulfilment.service.js';
import { outTradeNoOf } from '../src/modules/payments/trade-numbers.js';
import type { TestApp } from './helpers/app.js';
import { addressIdOf } from './helpers/addresses.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { startFakeWechatPay, type FakeWechatPay } from './helpers/fake-wechat-pay.js';
import { useStack } from './helpers/stack.js';

const ADMIN = 'after-sales-admin';
const API = '/api/v1';
const NOTIFY = `${API}/payments/wechat/notify`;
const PRICE = 1000;
const TPL = {
  approved: 'tplAsApproved_01',
  rejected: 'tplAsRejected_02',
  refunded: 'tplAsRefunded_03',
};

type Row = Record<string, unknown>;
type Role = 'admin' | 'support' | 'operator' | 'finance';

describe('after-sales: requests, decisions and their refunds (MariaDB, fake WeChat Pay)', () => {
  let pay: FakeWechatPay;
  beforeAll(async () => {
    pay = await startFakeWechatPay();
  });
  afterAll(() => pay.close());

  const stack = useStack({
    apps: 2,
    env: () => ({
      ...pay.env(),
      LOG_LEVEL: 'error',
      ADMIN_OPENIDS: ADMIN,
      WECHAT_SUBSCRIBE_TEMPLATE_AFTER_SALES_APPROVED: TPL.approved,
      WECHAT_SUBSCRIBE_FIELDS_AFTER_SALES_APPROVED:
        'character_string1=orderNo,amount2=refund,phrase3=status',
      WECHAT_SUBSCRIBE_TEMPLATE_AFTER_SALES_REJECTED: TPL.rejected,
      WECHAT_SUBSCRIBE_FIELDS_AFTER_SALES_REJECTED:
        'character_string1=orderNo,phrase2=status,thing3=reason',
      WECHAT_SUBSCRIBE_TEMPLATE_AFTER_SALES_REFUNDED: TPL.refunded,
      WECHAT_SUBSCRIBE_FIELDS_AFTER_SALES_REFUNDED: 'amount1=refund,thing2=productName',
    }),
  });
  let a: TestApp;
  let b: TestApp;
  const staff = {} as Record<Role, LoggedIn>;
  let alice: LoggedIn;
  let bob: LoggedIn;

  beforeAll(async () => {
    [a, b] = stack.apps;
    for (const id of Object.values(TPL)) stack.wx.templates.add(id);
    staff.admin = await loginAs(a, stack.wx, { admin: true });
    for (const role of ['support', 'operator', 'finance'] as const) {
      staff[role] = await loginAs(a, stack.wx);
      const set = await as(
        staff.admin,
        a.http.put(`${API}/admin/users/${staff[role].user.id}/role`),
      ).send({ role });
      expect(set.status).toBe(200);
    }
    alice = await loginAs(a, stack.wx);
    bob = await loginAs(a, stack.wx);
  });

  const as = (user: LoggedIn, req: Test): Test =>
    req.set('Authorization', `Bearer ${user.accessToken}`);
  const key = () => `as-${randomBytes(8).toString('hex')}`;
  const q = (sql: string, params: unknown[] = []) =>
    stack.db.dataSource.query(sql, params) as Promise<Row[]>;
  const orderRow = async (id: number) => (await q('SELECT * FROM orders WHERE id = ?', [id]))[0];
  const requestRow = async (id: number) =>
    (await q('SELECT * FROM after_sales WHERE id = ?', [id]))[0];
  const refundsOf = (orderId: number) =>
    q('SELECT * FROM order_refunds WHERE order_id = ? ORDER BY id', [orderId]);
  const auditOf = (id: number) =>
    q('SELECT * FROM audit_log WHERE target = ? ORDER BY id', [`after_sales:${id}`]);
  const notify = (n: { headers: Record<string, string>; body: string }) =>
    a.http.post(NOTIFY).set(n.headers).send(n.body);

  async function eventually<T>(read: () => Promise<T>, check: (v: T) => boolean, what: string) {
    for (let i = 0; i < 100; i++) {
      const v = await read();
      if (check(v)) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  let productId: number;
  async function product(): Promise<number> {
    if (productId) return productId;
    const res = await as(staff.admin, a.http.post(`${API}/admin/products`)).send({
      name: 'Tea',
      priceCents: PRICE,
      stock: 10_000,
    });
    expect(res.status).toBe(201);
    productId = res.body.data.id as number;
    return productId;
  }

  async function pendingOrder(user: LoggedIn = alice): Promise<number> {
    const res = await as(user, a.http.post(`${API}/orders`))
      .set('Idempotency-Key', key())
      .send({
        items: [{ productId: await product(), quantity: 1 }],
        addressId: await addressIdOf(a, user),
      });
    expect(res.status).toBe(201);
    return res.body.data.id as number;
  }

  async function paidOrder(user: LoggedIn = alice): Promise<number> {
    const orderId = await pendingOrder(user);
    expect((await as(user, a.http.post(`${API}/orders/${orderId}/payment`))).status).toBe(200);
    pay.pay(outTradeNoOf(orderId));
    expect((await notify(pay.transactionNotification(outTradeNoOf(orderId)))).status).toBe(204);
    expect((await orderRow(orderId)).status).toBe('paid');
    return orderId;
  }

  async function shippedOrder(user: LoggedIn = alice): Promise<number> {
    const orderId = await paidOrder(user);
    const res = await as(staff.operator, a.http.post(`${API}/admin/orders/${orderId}/ship`)).send({
      carrier: 'SF',
      trackingNo: 'SF100',
    });
    expect(res.status).toBe(200);
    return orderId;
  }

  async function completedOrder(user: LoggedIn = alice): Promise<number> {
    const orderId = await shippedOrder(user);
    const res = await as(user, a.http.post(`${API}/orders/${orderId}/confirm-receipt`));
    expect(res.status).toBe(200);
    return orderId;
  }

  const create = (orderId: number, body: object, user: LoggedIn = alice, k = key(), app = a) =>
    as(user, app.http.post(`${API}/orders/${orderId}/after-sales`))
      .set('Idempotency-Key', k)
      .send(body);
  const decide = (
    id: number,
    verb: 'approve' | 'reject' | 'receive',
    role: Role = 'finance',
    body: object = {},
    app = a,
  ) => as(staff[role], app.http.post(`${API}/admin/after-sales/${id}/${verb}`)).send(body);
  const cancel = (id: number, user: LoggedIn = alice, app = a) =>
    as(user, app.http.post(`${API}/after-sales/${id}/cancel`));

  async function requested(orderId: number, body: object = {}): Promise<number> {
    const res = await create(orderId, { type: 'refund', reason: 'damaged', ...body });
    expect(res.status).toBe(201);
    return res.body.data.id as number;
  }

  /** The refund job asked WeChat Pay for the request's refund: WeChat Pay settles it and notifies. */
  async function settle(id: number): Promise<string> {
    const row = await requestRow(id);
    const [refund] = await q('SELECT * FROM order_refunds WHERE id = ?', [row.refund_id]);
    const outRefundNo = refund.out_refund_no as string;
    await eventually(
      async () => pay.refunds.get(outRefundNo),
      (r) => r !== undefined,
      `refund ${outRefundNo} at WeChat Pay`,
    );
    pay.settleRefund(outRefundNo);
    expect((await notify(pay.refundNotification(outRefundNo))).status).toBe(204);
    await eventually(
      () => requestRow(id),
      (r) => r.status === 'refunded',
      `request ${id} refunded`,
    );
    return outRefundNo;
  }

  describe('the flows', () => {
    it('refund: requested → refunding on approval → refunded when WeChat Pay settles it', async () => {
      const orderId = await paidOrder();
      const res = await create(orderId, { type: 'refund', reason: 'changed my mind' });
      expect(res.status).toBe(201);
      expect(res.body.data).toMatchObject({
        orderId,
        userId: alice.user.id,
        type: 'refund',
        status: 'requested',
        amountCents: PRICE, // the default: all that is refundable
        approvedCents: null,
        description: null,
      });
      const id = res.body.data.id as number;
      const listed = await as(alice, a.http.get(`${API}/orders/${orderId}/after-sales`));
      expect(listed.body.data.items.map((r: Row) => r.id)).toEqual([id]);

      const approved = await decide(id, 'approve', 'support');
      expect(approved.status).toBe(200);
      expect(approved.body.data).toMatchObject({ status: 'refunding', approvedCents: PRICE });
      expect(await orderRow(orderId)).toMatchObject({ status: 'refunding' });
      expect(await auditOf(id)).toEqual([
        expect.objectContaining({ action: 'after_sales.approve', actor_id: staff.support.user.id }),
      ]);
      const refunds = await refundsOf(orderId);
      expect(refunds).toHaveLength(1);
      expect(refunds[0]).toMatchObject({
        amount_cents: PRICE,
        idempotency_key: `after-sales:${id}:0`,
        resume_status: 'paid',
      });

      await settle(id);
      expect(await orderRow(orderId)).toMatchObject({ status: 'refunded', refunded_cents: PRICE });
      expect(await requestRow(id)).toMatchObject({ status: 'refunded', open_order_id: null });
      // The settled refund's event is consumed once: one after-sales.refunded.
      const events = await q(
        "SELECT COUNT(*) AS n FROM outbox WHERE type = 'after-sales.refunded' AND aggregate_id = ?",
        [String(id)],
      );
      expect(Number(events[0].n)).toBe(1);
    });

    it('return_refund: approve → return shipment → receive → refunded; a partial refund returns the order to completed', async () => {
      const orderId = await completedOrder();
      const id = (
        await create(orderId, {
          type: 'return_refund',
          reason: 'wrong size',
          amountCents: 600,
          description: 'the box is unopened',
        })
      ).body.data.id as number;
      // Goods not sent back yet: staff cannot receive them, nor the buyer ship before approval.
      expect((await decide(id, 'receive', 'operator')).status).toBe(409);
      const early = await as(alice, a.http.post(`${API}/after-sales/${id}/return-shipment`)).send({
        carrier: 'SF',
        trackingNo: 'SF42',
      });
      expect(early.status).toBe(409);

      const approved = await decide(id, 'approve', 'finance', { amountCents: 500 });
      expect(approved.body.data).toMatchObject({ status: 'approved', approvedCents: 500 });
      expect(await refundsOf(orderId)).toEqual([]); // no money before the goods come back
      expect((await orderRow(orderId)).status).toBe('completed');

      const shipped = await as(alice, a.http.post(`${API}/after-sales/${id}/return-shipment`)).send(
        {
          carrier: 'SF',
          trackingNo: 'SF42',
        },
      );
      expect(shipped.status).toBe(200);
      expect(shipped.body.data).toMatchObject({
        status: 'returning',
        returnCarrier: 'SF',
        returnTrackingNo: 'SF42',
      });
      // support may not receive goods (operator, finance, admin may).
      expect((await decide(id, 'receive', 'support')).status).toBe(403);
      const received = await decide(id, 'receive', 'operator');
      expect(received.status).toBe(200);
      expect(received.body.data.status).toBe('refunding');
      expect(await refundsOf(orderId)).toEqual([
        expect.objectContaining({ amount_cents: 500, resume_status: 'completed' }),
      ]);
      expect((await auditOf(id)).map((r) => r.action)).toEqual([
        'after_sales.approve',
        'after_sales.receive',
      ]);

      await settle(id);
      expect(await orderRow(orderId)).toMatchObject({ status: 'completed', refunded_cents: 500 });

      // The rest may be asked for; more than the rest may not.
      const over = await create(orderId, { type: 'refund', reason: 'more', amountCents: 501 });
      expect([over.status, over.body.data]).toEqual([409, { refundableCents: 500 }]);
      const rest = await requested(orderId);
      expect((await requestRow(rest)).amount_cents).toBe(500);
      expect((await decide(rest, 'approve')).status).toBe(200);
      await settle(rest);
      expect(await orderRow(orderId)).toMatchObject({ status: 'refunded', refunded_cents: PRICE });
      const total = (await refundsOf(orderId)).reduce((s, r) => s + Number(r.amount_cents), 0);
      expect(total).toBe(PRICE);
    });

    it('a refund WeChat Pay closes puts the request back to staff; approving again refunds once', async () => {
      const orderId = await paidOrder();
      const id = await requested(orderId);
      expect((await decide(id, 'approve')).status).toBe(200);
      const [failed] = await refundsOf(orderId);
      const outRefundNo = failed.out_refund_no as string;
      await eventually(
        async () => pay.refunds.get(outRefundNo),
        (r) => r !== undefined,
        'the refund at WeChat Pay',
      );
      pay.settleRefund(outRefundNo, 'CLOSED');
      expect((await notify(pay.refundNotification(outRefundNo))).status).toBe(204);
      await eventually(
        () => requestRow(id),
        (r) => r.status === 'requested',
        'the request back to staff',
      );
      expect(await orderRow(orderId)).toMatchObject({ status: 'paid', refunded_cents: 0 });
      // Still the open request of the order; approved again, a second refund (a new key) settles.
      expect((await create(orderId, { type: 'refund', reason: 'again' })).body.code).toBe(40921);
      expect((await decide(id, 'approve')).status).toBe(200);
      const refunds = await refundsOf(orderId);
      expect(refunds.map((r) => r.idempotency_key)).toEqual([
        `after-sales:${id}:0`,
        `after-sales:${id}:${Number(failed.id)}`,
      ]);
      expect(refunds[0].state).toBe('closed');
      await settle(id);
      expect(await orderRow(orderId)).toMatchObject({ status: 'refunded', refunded_cents: PRICE });
    });

    it('receiving a return refunds what is left when an admin refund took part of it after the approval', async () => {
      const orderId = await shippedOrder();
      const id = (await create(orderId, { type: 'return_refund', reason: 'faulty' })).body.data
        .id as number;
      expect((await decide(id, 'approve')).body.data.approvedCents).toBe(PRICE);
      const refund = await as(staff.finance, a.http.post(`${API}/admin/orders/${orderId}/refund`))
        .set('Idempotency-Key', key())
        .send({ amountCents: 300 });
      expect(refund.status).toBe(200);
      const [adminRefund] = await refundsOf(orderId);
      await eventually(
        async () => pay.refunds.get(adminRefund.out_refund_no as string),
        (r) => r !== undefined,
        'the admin refund at WeChat Pay',
      );
      pay.settleRefund(adminRefund.out_refund_no as string);
      expect(
        (await notify(pay.refundNotification(adminRefund.out_refund_no as string))).status,
      ).toBe(204);
      expect(await orderRow(orderId)).toMatchObject({ status: 'shipped', refunded_cents: 300 });
      await as(alice, a.http.post(`${API}/after-sales/${id}/return-shipment`)).send({
        carrier: 'SF',
        trackingNo: 'SF7',
      });
      const received = await decide(id, 'receive', 'operator');
      expect(received.body.data).toMatchObject({ status: 'refunding', approvedCents: 700 });
      await settle(id);
      expect(await orderRow(orderId)).toMatchObject({ status: 'refunded', refunded_cents: PRICE });
    });

    it('reject and buyer cancel close a request (a new one may follow); decided requests cannot be cancelled', async () => {
      const orderId = await shippedOrder();
      const first = await requested(orderId);
      expect((await decide(first, 'reject', 'operator', { reason: 'no' })).status).toBe(403);
      const rejected = await decide(first, 'reject', 'support', { reason: 'photos missing' });
      expect(rejected.status).toBe(200);
      expect(rejected.body.data).toMatchObject({
        status: 'rejected',
        rejectReason: 'photos missing',
      });
      expect(await auditOf(first)).toEqual([
        expect.objectContaining({ action: 'after_sales.reject', actor_id: staff.support.user.id }),
      ]);
      expect((await cancel(first)).status).toBe(409);
      expect((await decide(first, 'approve')).status).toBe(409);

      const second = await requested(orderId);
      const cancelled = await cancel(second);
      expect([cancelled.status, cancelled.body.data.status]).toEqual([200, 'cancelled']);
      expect(await auditOf(second)).toEqual([]); // the buyer's write is not a staff write
      const third = await requested(orderId);
      expect((await decide(third, 'approve')).status).toBe(200);
      expect((await cancel(third)).status).toBe(409);
      const listed = await as(alice, a.http.get(`${API}/orders/${orderId}/after-sales`));
      expect(listed.body.data.items.map((r: Row) => [r.id, r.status])).toEqual([
        [third, 'refunding'],
        [second, 'cancelled'],
        [first, 'rejected'],
      ]);
      expect(await refundsOf(orderId)).toHaveLength(1);
    });

    it('the staff queue lists open requests oldest first, by status, in pages; the order detail lists them', async () => {
      const o1 = await paidOrder(bob);
      const o2 = await paidOrder(bob);
      const r1 = (await create(o1, { type: 'refund', reason: 'x' }, bob)).body.data.id as number;
      const r2 = (await create(o2, { type: 'refund', reason: 'y' }, bob)).body.data.id as number;
      const all = async (query: string) => {
        const ids: number[] = [];
        let cursor = '';
        for (let page = 0; page < 50; page++) {
          const res = await as(
            staff.support,
            a.http.get(`${API}/admin/after-sales?${query}&limit=2${cursor}`),
          );
          expect(res.status).toBe(200);
          ids.push(...res.body.data.items.map((r: Row) => r.id as number));
          if (!res.body.data.nextCursor) return ids;
          cursor = `&cursor=${res.body.data.nextCursor}`;
        }
        throw new Error('too many pages');
      };
      const open = await all('');
      expect(open.indexOf(r1)).toBeLessThan(open.indexOf(r2));
      expect(open).toEqual([...open].sort((x, y) => x - y));
      expect(await decide(r2, 'reject', 'admin', { reason: 'no' })).toHaveProperty('status', 200);
      expect(await all('')).not.toContain(r2);
      expect(await all('status=rejected')).toContain(r2);
      const detail = await as(staff.support, a.http.get(`${API}/admin/orders/${o1}`));
      expect(detail.body.data.afterSales).toEqual([
        expect.objectContaining({ id: r1, status: 'requested', type: 'refund' }),
      ]);
      expect((await as(alice, a.http.get(`${API}/admin/after-sales`))).status).toBe(403);
    });
  });

  describe('subscribe messages on decisions', () => {
    const messagesTo = (who: LoggedIn, templateId: string) =>
      stack.wx.subscribeMessages.filter(
        (m) => m.touser === who.openid && m.template_id === templateId,
      );
    /** The one message of `templateId` the buyer got (waits for it). */
    const messageOf = async (who: LoggedIn, templateId: string) =>
      (
        await eventually(
          async () => messagesTo(who, templateId),
          (ms) => ms.length === 1,
          `a ${templateId} message`,
        )
      )[0];
    const value = (m: Record<string, unknown>, keyword: string) =>
      (m.data as Record<string, { value: string }>)[keyword].value;
    async function subscribe(who: LoggedIn, templateId: string) {
      stack.wx.acceptSubscription(who.openid, templateId);
      const res = await as(who, a.http.post(`${API}/users/me/subscriptions`)).send({
        accepted: [templateId],
      });
      expect(res.body.data.items).toEqual([expect.objectContaining({ templateId, credits: 1 })]);
      return res.body.data.items[0].topic as string;
    }

    it('tells the buyer of an approval, a rejection and a refund, once each, from the configured templates', async () => {
      const buyer = await loginAs(a, stack.wx);
      const topics: string[] = [];
      for (const id of Object.values(TPL)) topics.push(await subscribe(buyer, id));
      expect(topics).toEqual([
        'after_sales_approved',
        'after_sales_rejected',
        'after_sales_refunded',
      ]);

      const rejectedOrder = await paidOrder(buyer);
      const rejected = (await create(rejectedOrder, { type: 'refund', reason: 'x' }, buyer)).body
        .data.id as number;
      expect((await decide(rejected, 'reject', 'support', { reason: '请提供照片' })).status).toBe(
        200,
      );
      const no = await messageOf(buyer, TPL.rejected);
      expect(value(no, 'character_string1')).toBe(String(rejectedOrder));
      expect(value(no, 'phrase2')).toBe('售后已拒绝');
      expect(value(no, 'thing3')).toBe('请提供照片');

      const orderId = await paidOrder(buyer);
      const id = (await create(orderId, { type: 'refund', reason: 'x', amountCents: 700 }, buyer))
        .body.data.id as number;
      expect((await decide(id, 'approve')).status).toBe(200);
      const yes = await messageOf(buyer, TPL.approved);
      expect(value(yes, 'amount2')).toBe('¥7.00');
      expect(value(yes, 'phrase3')).toBe('售后已同意');
      await settle(id);
      const refunded = await messageOf(buyer, TPL.refunded);
      expect(value(refunded, 'amount1')).toBe('¥7.00');
      expect(value(refunded, 'thing2')).toBe('Tea');
      // One credit each, spent: a second rejection sends nothing (no credit, no call).
      const again = await paidOrder(buyer);
      const second = (await create(again, { type: 'refund', reason: 'y' }, buyer)).body.data
        .id as number;
      await decide(second, 'reject', 'support', { reason: 'again' });
      await new Promise((r) => setTimeout(r, 500));
      expect(messagesTo(buyer, TPL.rejected)).toHaveLength(1);
    });
  });

  describe('refusals', () => {
    it('409/40921: a second open request, an order that is not paid, shipped or completed, past AFTER_SALES_DAYS', async () => {
      const orderId = await paidOrder();
      await requested(orderId);
      const second = await create(orderId, { type: 'return_refund', reason: 'again' });
      expect([second.status, second.body.code]).toEqual([409, 40921]);

      const pending = await create(await pendingOrder(), { type: 'refund', reason: 'x' });
      expect([pending.status, pending.body.code]).toEqual([409, 40921]);

      const old = await completedOrder();
      // Completed 16 days ago: past the default 15.
      await q(
        "UPDATE order_events SET created_at = ? WHERE order_id = ? AND to_status = 'completed'",
        [new Date(Date.now() - 16 * 86_400_000), old],
      );
      const late = await create(old, { type: 'refund', reason: 'late' });
      expect([late.status, late.body.code]).toEqual([409, 40921]);
      await q(
        "UPDATE order_events SET created_at = ? WHERE order_id = ? AND to_status = 'completed'",
        [new Date(Date.now() - 14 * 86_400_000), old],
      );
      expect((await create(old, { type: 'refund', reason: 'in time' })).status).toBe(201);
    });

    it('bounds amounts and texts with a 400 naming the field, and writes nothing', async () => {
      const orderId = await paidOrder();
      const cases: [object, string][] = [
        [{ type: 'refund', reason: 'x', amountCents: 0 }, 'amountCents'],
        [{ type: 'refund', reason: 'x', amountCents: -5 }, 'amountCents'],
        [{ type: 'refund', reason: 'x', amountCents: 1.5 }, 'amountCents'],
        [{ type: 'refund', reason: 'x', amountCents: 2 ** 31 }, 'amountCents'],
        [{ type: 'exchange', reason: 'x' }, 'type'],
        [{ type: 'refund', reason: '' }, 'reason'],
        [{ type: 'refund', reason: 'r'.repeat(81) }, 'reason'],
        [{ type: 'refund', reason: 'bad\u0007bell' }, 'reason'],
        [{ type: 'refund', reason: 'x', description: 'd'.repeat(501) }, 'description'],
        [{ type: 'refund', reason: 'x', description: 'line\u0000' }, 'description'],
      ];
      for (const [body, field] of cases) {
        const res = await create(orderId, body);
        expect([res.status, res.body.code], JSON.stringify(body)).toEqual([400, 40000]);
        expect(res.body.data.errors.map((e: Row) => e.field)).toContain(field);
      }
      const over = await create(orderId, { type: 'refund', reason: 'x', amountCents: PRICE + 1 });
      expect([over.status, over.body.data]).toEqual([409, { refundableCents: PRICE }]);
      const noKey = await as(alice, a.http.post(`${API}/orders/${orderId}/after-sales`)).send({
        type: 'refund',
        reason: 'x',
      });
      expect(noKey.status).toBe(400);
      expect(await q('SELECT id FROM after_sales WHERE order_id = ?', [orderId])).toEqual([]);

      // The same key and body is the same request; the same key with another body, 409.
      const k = key();
      const first = await create(orderId, { type: 'refund', reason: 'x' }, alice, k);
      const again = await create(orderId, { type: 'refund', reason: 'x' }, alice, k);
      expect([first.status, again.status]).toEqual([201, 200]);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body.data.id).toBe(first.body.data.id);
      expect((await create(orderId, { type: 'refund', reason: 'y' }, alice, k)).status).toBe(409);

      // Staff may not approve more than is refundable, nor a reject without a reason.
      const id = first.body.data.id as number;
      const tooMuch = await decide(id, 'approve', 'finance', { amountCents: PRICE + 1 });
      expect([tooMuch.status, tooMuch.body.data]).toEqual([409, { refundableCents: PRICE }]);
      expect((await decide(id, 'reject', 'finance', {})).status).toBe(400);
      expect((await requestRow(id)).status).toBe('requested');
      expect(await refundsOf(orderId)).toEqual([]);
      expect(await auditOf(id)).toEqual([]);
    });

    it("answers 404 for another user's order or request", async () => {
      const orderId = await paidOrder();
      const id = await requested(orderId);
      expect((await create(orderId, { type: 'refund', reason: 'x' }, bob)).status).toBe(404);
      expect((await as(bob, a.http.get(`${API}/orders/${orderId}/after-sales`))).status).toBe(404);
      expect((await cancel(id, bob)).status).toBe(404);
      const ship = await as(bob, a.http.post(`${API}/after-sales/${id}/return-shipment`)).send({
        carrier: 'SF',
        trackingNo: 'SF1',
      });
      expect(ship.status).toBe(404);
      expect((await decide(2_000_000_000, 'approve')).status).toBe(404);
      expect((await requestRow(id)).status).toBe('requested');
    });

    it('refuses decisions to the roles that may not take them (403), and to buyers', async () => {
      const id = await requested(await paidOrder());
      expect((await decide(id, 'approve', 'operator')).status).toBe(403);
      expect((await decide(id, 'reject', 'operator', { reason: 'x' })).status).toBe(403);
      expect((await decide(id, 'receive', 'support')).status).toBe(403);
      const buyer = await as(alice, a.http.post(`${API}/admin/after-sales/${id}/approve`)).send({});
      expect([buyer.status, buyer.body.code]).toEqual([403, 40300]);
      expect((await requestRow(id)).status).toBe('requested');
    });
  });

  describe('races, run concurrently', () => {
    const ROUNDS = 4;

    it('two creates on one order: one 201, one 409/40921', async () => {
      for (let i = 0; i < ROUNDS; i++) {
        const orderId = await paidOrder();
        const answers = await Promise.all([
          create(orderId, { type: 'refund', reason: 'a' }, alice, key(), a),
          create(orderId, { type: 'return_refund', reason: 'b' }, alice, key(), b),
        ]);
        expect(answers.map((r) => r.status).sort((x, y) => x - y)).toEqual([201, 409]);
        expect(answers.find((r) => r.status === 409)?.body.code).toBe(40921);
        expect(await q('SELECT id FROM after_sales WHERE order_id = ?', [orderId])).toHaveLength(1);
      }
    });

    it('approve vs the buyer cancelling: one wins; a refund only if the approval did', async () => {
      for (let i = 0; i < ROUNDS; i++) {
        const orderId = await paidOrder();
        const id = await requested(orderId);
        const [approved, cancelled] = await Promise.all([
          decide(id, 'approve', 'finance', {}, a),
          cancel(id, alice, b),
        ]);
        expect([approved.status, cancelled.status].sort((x, y) => x - y)).toEqual([200, 409]);
        const row = await requestRow(id);
        const refunds = await refundsOf(orderId);
        if (approved.status === 200) {
          expect(row.status).toBe('refunding');
          expect(refunds).toHaveLength(1);
          expect((await orderRow(orderId)).status).toBe('refunding');
        } else {
          expect(row).toMatchObject({ status: 'cancelled', open_order_id: null });
          expect(refunds).toHaveLength(0);
          expect(await auditOf(id)).toEqual([]);
          expect((await orderRow(orderId)).status).toBe('paid');
        }
      }
    });

    it('two staff approving at once: one refund, one audit row', async () => {
      for (let i = 0; i < ROUNDS; i++) {
        const orderId = await paidOrder();
        const id = await requested(orderId);
        const answers = await Promise.all([
          decide(id, 'approve', 'finance', {}, a),
          decide(id, 'approve', 'support', {}, b),
        ]);
        expect(answers.map((r) => r.status).sort((x, y) => x - y)).toEqual([200, 409]);
        expect(await refundsOf(orderId)).toHaveLength(1);
        expect(await auditOf(id)).toHaveLength(1);
      }
      // And the money settles once.
      const orderId = await paidOrder();
      const id = await requested(orderId);
      await Promise.all([
        decide(id, 'approve', 'finance', {}, a),
        decide(id, 'approve', 'admin', {}, b),
      ]);
      await settle(id);
      expect(await orderRow(orderId)).toMatchObject({ status: 'refunded', refunded_cents: PRICE });
    });

    it('a request vs an admin refund of the same order: never more refunded than paid', async () => {
      for (let i = 0; i < ROUNDS; i++) {
        const orderId = await paidOrder();
        const [request, refund] = await Promise.all([
          create(orderId, { type: 'refund', reason: 'race' }, alice, key(), a),
          as(staff.finance, b.http.post(`${API}/admin/orders/${orderId}/refund`))
            .set('Idempotency-Key', key())
            .send({ amountCents: 400 }),
        ]);
        expect(refund.status).toBe(200);
        if (request.status === 201) {
          // The request came first: it asked for everything; the refund took 400 meanwhile,
          // so approving it as asked is refused (in flight, then above what is left).
          const approve = await decide(request.body.data.id, 'approve');
          expect(approve.status).toBe(409);
        } else {
          expect([request.status, request.body.code]).toEqual([409, 40921]); // order refunding
        }
        const refunds = await refundsOf(orderId);
        expect(refunds).toHaveLength(1);
        expect(refunds.reduce((s, r) => s + Number(r.amount_cents), 0)).toBeLessThanOrEqual(PRICE);
      }
    });

    it('a request vs the payment-timeout timer: a pending order gets no request, whichever runs first', async () => {
      for (let i = 0; i < ROUNDS; i++) {
        const orderId = await pendingOrder();
        await q('UPDATE orders SET pay_before = ? WHERE id = ?', [
          new Date(Date.now() - 1000),
          orderId,
        ]);
        const [request, expired] = await Promise.all([
          create(orderId, { type: 'refund', reason: 'race' }),
          b.app.get(OrdersService).expire(orderId),
        ]);
        expect([request.status, request.body.code]).toEqual([409, 40921]);
        expect(expired).toBe(true);
        expect(await orderRow(orderId)).toMatchObject({ status: 'cancelled', refunded_cents: 0 });
        expect(await q('SELECT id FROM after_sales WHERE order_id = ?', [orderId])).toEqual([]);
      }
      // On a paid order the timer has nothing to close: the request stands.
      const paid = await paidOrder();
      const [request, expired] = await Promise.all([
        create(paid, { type: 'refund', reason: 'race' }),
        b.app.get(OrdersService).expire(paid),
      ]);
      expect([request.status, expired]).toEqual([201, false]);
    });

    it('a request vs the auto-complete timer: the order may complete under an open request, which still refunds once', async () => {
      for (let i = 0; i < ROUNDS; i++) {
        const orderId = await shippedOrder();
        // Shipped long ago: the auto-complete job is due.
        await q('UPDATE order_shipments SET shipped_at = ? WHERE order_id = ?', [
          new Date(Date.now() - 30 * 86_400_000),
          orderId,
        ]);
        const complete = () =>
          b.app.get(Transactions).run((m) => b.app.get(FulfilmentService).complete(m, orderId));
        const [request, completed] = await Promise.all([
          create(orderId, { type: 'refund', reason: 'race' }),
          complete(),
        ]);
        expect(request.status).toBe(201);
        expect(completed).toBe(true);
        const id = request.body.data.id as number;
        // Approval vs the timer running again (a retried job): one refund, from completed.
        const [approved, again] = await Promise.all([decide(id, 'approve'), complete()]);
        expect([approved.status, again]).toEqual([200, false]);
        expect(await refundsOf(orderId)).toEqual([
          expect.objectContaining({ amount_cents: PRICE, resume_status: 'completed' }),
        ]);
        await settle(id);
        expect(await orderRow(orderId)).toMatchObject({
          status: 'refunded',
          refunded_cents: PRICE,
        });
      }
    });
  });
});
