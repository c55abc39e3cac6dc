import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outTradeNoOf } from '../src/modules/payments/trade-numbers.js';
import { SandboxWechatClient } from '../src/modules/wechat/index.js';
import { addressIdOf } from './helpers/addresses.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { startFakeWechatPay, type FakeWechatPay } from './helpers/fake-wechat-pay.js';
import { useStack } from './helpers/stack.js';
import { until } from './helpers/until.js';

const ADMIN = 'audit-admin';
const API = '/api/v1';
const SHIPPING_QUEUE = 'payments.shipping-upload';
const NOTIFY = `${API}/payments/wechat/notify`;

interface AuditRow {
  id: number;
  actorId: number | null;
  action: string;
  target: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  requestId: string | null;
  createdAt: string;
}

const as = (user: LoggedIn) => ({ Authorization: `Bearer ${user.accessToken}` });
const requestId = () => `audit-${randomBytes(6).toString('hex')}`;

describe('the audit log of staff writes (MariaDB + Redis, fake WeChat and WeChat Pay)', () => {
  let pay: FakeWechatPay;
  beforeAll(async () => {
    pay = await startFakeWechatPay();
  });
  afterAll(() => pay.close());

  const stack = useStack({
    env: () => ({ ...pay.env(), LOG_LEVEL: 'error', ADMIN_OPENIDS: ADMIN }),
  });
  let admin: LoggedIn;
  let operator: LoggedIn;
  let finance: LoggedIn;
  let support: LoggedIn;
  let buyer: LoggedIn;
  beforeAll(async () => {
    admin = await loginAs(stack.app, stack.wx, { admin: true });
    buyer = await loginAs(stack.app, stack.wx);
    [operator, finance, support] = await Promise.all(
      ['operator', 'finance', 'support'].map(async (role) => {
        const staff = await loginAs(stack.app, stack.wx);
        const res = await stack.app.http
          .put(`${API}/admin/users/${staff.user.id}/role`)
          .set(as(admin))
          .send({ role });
        expect(res.status).toBe(200);
        return staff;
      }),
    );
  });

  const http = () => stack.app.http;
  /** Every row, straight from the table, oldest first. */
  const rowCount = async () =>
    Number((await stack.db.dataSource.query('SELECT COUNT(*) AS n FROM audit_log'))[0].n);
  const page = async (query: string, by: LoggedIn = admin) => {
    const res = await http().get(`${API}/admin/audit${query}`).set(as(by));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.data as { items: AuditRow[]; nextCursor: string | null };
  };
  const newest = async () => (await page('?limit=1')).items[0];
  /** The one row a write added, checked against the write's answer. */
  const expectAudited = async (
    res: { status: number; headers: Record<string, string> },
    countBefore: number,
    expected: Partial<AuditRow>,
  ) => {
    expect(await rowCount()).toBe(countBefore + 1);
    const row = await newest();
    expect(row).toMatchObject({ ...expected, requestId: res.headers['x-request-id'] });
    return row;
  };
  const newProduct = async (by: LoggedIn, body: Record<string, unknown> = {}) => {
    const res = await http()
      .post(`${API}/admin/products`)
      .set(as(by))
      .send({ name: 'Audit tea', priceCents: 1200, stock: 10, ...body });
    expect(res.status).toBe(201);
    return res.body.data.id as number;
  };
  const pendingOrder = async () => {
    const productId = await newProduct(admin);
    const order = await http()
      .post(`${API}/orders`)
      .set(as(buyer))
      .set('Idempotency-Key', `k-${randomBytes(8).toString('hex')}`)
      .send({
        items: [{ productId, quantity: 1 }],
        addressId: await addressIdOf(stack.app, buyer),
      });
    expect(order.status).toBe(201);
    return order.body.data.id as number;
  };
  const paidOrder = async () => {
    const orderId = await pendingOrder();
    expect((await http().post(`${API}/orders/${orderId}/payment`).set(as(buyer))).status).toBe(200);
    pay.pay(outTradeNoOf(orderId));
    const n = pay.transactionNotification(outTradeNoOf(orderId));
    expect((await http().post(NOTIFY).set(n.headers).send(n.body)).status).toBe(204);
    return orderId;
  };
  const ship = (orderId: number, by: LoggedIn = operator) =>
    http()
      .post(`${API}/admin/orders/${orderId}/ship`)
      .set(as(by))
      .set('X-Request-Id', requestId())
      .send({ carrier: 'SF', trackingNo: `SF-${orderId}` });

  it('records product writes with the changed fields, and nothing for a refused one', async () => {
    let count = await rowCount();
    const created = await http()
      .post(`${API}/admin/products`)
      .set(as(operator))
      .set('X-Request-Id', requestId())
      .send({ name: 'Audited tea', priceCents: 900, stock: 5 });
    expect(created.status).toBe(201);
    const id = created.body.data.id as number;
    const row = await expectAudited(created, count, {
      actorId: operator.user.id,
      action: 'product.create',
      target: `product:${id}`,
      before: null,
      after: {
        name: 'Audited tea',
        description: '',
        priceCents: 900,
        stock: 5,
        imageUrl: null,
        delivery: 'express',
      },
    });
    expect(row.requestId).toMatch(/^audit-/);

    count = await rowCount();
    const updated = await http()
      .patch(`${API}/admin/products/${id}`)
      .set(as(admin))
      .send({ priceCents: 1500, stock: 7 });
    expect(updated.status).toBe(200);
    await expectAudited(updated, count, {
      actorId: admin.user.id,
      action: 'product.update',
      target: `product:${id}`,
      before: { priceCents: 900, stock: 5 },
      after: { priceCents: 1500, stock: 7 },
    });

    count = await rowCount();
    const deleted = await http().delete(`${API}/admin/products/${id}`).set(as(operator));
    expect(deleted.status).toBe(200);
    const gone = await expectAudited(deleted, count, {
      actorId: operator.user.id,
      action: 'product.delete',
      target: `product:${id}`,
      before: { name: 'Audited tea', deletedAt: null },
    });
    expect(Date.parse(gone.after!.deletedAt as string)).not.toBeNaN();

    // Refused writes leave no row: a deleted product, an empty patch, a bad body.
    count = await rowCount();
    expect(
      (await http().patch(`${API}/admin/products/${id}`).set(as(admin)).send({ stock: 1 })).status,
    ).toBe(404);
    expect((await http().delete(`${API}/admin/products/${id}`).set(as(admin))).status).toBe(404);
    expect((await http().patch(`${API}/admin/products/${id}`).set(as(admin)).send({})).status).toBe(
      400,
    );
    expect(
      (await http().post(`${API}/admin/products`).set(as(admin)).send({ name: '' })).status,
    ).toBe(400);
    expect(await rowCount()).toBe(count);
  });

  it('records a flash sale, and neither a row nor stock for a 409', async () => {
    const productId = await newProduct(admin, { stock: 20 });
    const body = {
      productId,
      priceCents: 990,
      stock: 8,
      perUserLimit: 1,
      startsAt: new Date(Date.now() + 60_000).toISOString(),
      endsAt: new Date(Date.now() + 120_000).toISOString(),
    };
    let count = await rowCount();
    const short = await http()
      .post(`${API}/admin/flash-sales`)
      .set(as(operator))
      .send({ ...body, stock: 21 });
    expect([short.status, short.body.code]).toEqual([409, 40900]);
    expect(await rowCount()).toBe(count);
    expect((await http().get(`${API}/products/${productId}`)).body.data.stock).toBe(20);

    const created = await http().post(`${API}/admin/flash-sales`).set(as(operator)).send(body);
    expect(created.status).toBe(201);
    await expectAudited(created, count, {
      actorId: operator.user.id,
      action: 'flash_sale.create',
      target: `flash_sale:${created.body.data.id}`,
      before: null,
      after: body,
    });
  });

  it('records ship, cancel and refund with the status before and after; a 409 writes nothing', async () => {
    const paid = await paidOrder();
    let count = await rowCount();
    const shipped = await ship(paid);
    expect(shipped.status).toBe(200);
    await expectAudited(shipped, count, {
      actorId: operator.user.id,
      action: 'order.ship',
      target: `order:${paid}`,
      before: { status: 'paid' },
      after: { status: 'shipped', carrier: 'SF', trackingNo: `SF-${paid}`, packages: null },
    });
    count = await rowCount();
    expect((await ship(paid)).status).toBe(409);
    expect(await rowCount()).toBe(count);

    const refund = (orderId: number, key: string, body: Record<string, unknown> = {}) =>
      http()
        .post(`${API}/admin/orders/${orderId}/refund`)
        .set(as(finance))
        .set('Idempotency-Key', key)
        .send(body);
    const refunded = await refund(paid, `audit-refund-${paid}`, {
      amountCents: 500,
      reason: 'dented tin',
    });
    expect(refunded.status).toBe(200);
    await expectAudited(refunded, count, {
      actorId: finance.user.id,
      action: 'order.refund',
      target: `order:${paid}`,
      before: { status: 'shipped', refundedCents: 0 },
      after: { status: 'refunding', amountCents: 500, reason: 'dented tin' },
    });
    // A replay of the same key is the same refund: no second row.
    count = await rowCount();
    expect(
      (await refund(paid, `audit-refund-${paid}`, { amountCents: 500, reason: 'dented tin' }))
        .status,
    ).toBe(200);
    expect(await rowCount()).toBe(count);

    // pendingOrder's product is the admin's write: counted before the cancel.
    const pending = await pendingOrder();
    count = await rowCount();
    const cancelled = await http().post(`${API}/admin/orders/${pending}/cancel`).set(as(operator));
    expect(cancelled.status).toBe(200);
    await expectAudited(cancelled, count, {
      actorId: operator.user.id,
      action: 'order.cancel',
      target: `order:${pending}`,
      before: { status: 'pending' },
      after: { status: 'cancelled', cancelReason: 'admin' },
    });
    count = await rowCount();
    expect(
      (await http().post(`${API}/admin/orders/${pending}/cancel`).set(as(operator))).status,
    ).toBe(409);
    const late = await refund(pending, `audit-refund-${pending}`);
    expect([late.status, late.body.code]).toEqual([409, 40900]);
    expect(await rowCount()).toBe(count);
    // The buyer's own cancel is no staff write.
    const own = await pendingOrder();
    count = await rowCount();
    expect((await http().post(`${API}/orders/${own}/cancel`).set(as(buyer))).status).toBe(200);
    expect(await rowCount()).toBe(count);
  });

  it('records role changes, settings changes and flag clearances; refused ones write nothing', async () => {
    const user = await loginAs(stack.app, stack.wx);
    let count = await rowCount();
    const granted = await http()
      .put(`${API}/admin/users/${user.user.id}/role`)
      .set(as(admin))
      .send({ role: 'support' });
    expect(granted.status).toBe(200);
    await expectAudited(granted, count, {
      actorId: admin.user.id,
      action: 'user.role',
      target: `user:${user.user.id}`,
      before: { role: 'user', grantedRole: null },
      after: { role: 'support', grantedRole: 'support' },
    });
    count = await rowCount();
    // ADMIN_OPENIDS keeps the admin an admin: 409, unchanged, unaudited.
    const demoted = await http()
      .put(`${API}/admin/users/${admin.user.id}/role`)
      .set(as(admin))
      .send({ role: 'support' });
    expect(demoted.status).toBe(409);
    expect(await rowCount()).toBe(count);

    const settings = (await http().get(`${API}/admin/settings`).set(as(admin))).body.data;
    const changed = await http()
      .put(`${API}/admin/settings`)
      .set(as(admin))
      .send({ throttle: { default: { limit: settings.throttle.default.limit + 1 } } });
    expect(changed.status).toBe(200);
    const settingsRow = await expectAudited(changed, count, {
      actorId: admin.user.id,
      action: 'settings.update',
      before: { throttle: { default: settings.throttle.default } },
      after: {
        throttle: {
          default: { ...settings.throttle.default, limit: settings.throttle.default.limit + 1 },
        },
      },
    });
    // The settings' own trail has the change the audit row points at.
    const trail = (await http().get(`${API}/admin/settings/audit?limit=1`).set(as(admin))).body
      .data;
    expect(settingsRow.target).toBe(`settings_change:${trail.items[0].id}`);
    count = await rowCount();
    // A change to what is already in force writes nothing.
    expect(
      (
        await http()
          .put(`${API}/admin/settings`)
          .set(as(admin))
          .send({ throttle: { default: { limit: settings.throttle.default.limit + 1 } } })
      ).status,
    ).toBe(200);
    expect(await rowCount()).toBe(count);

    stack.wx.reviewWords.add('auditword');
    expect(
      (await http().patch(`${API}/users/me`).set(as(buyer)).send({ nickname: 'auditword fan' }))
        .status,
    ).toBe(200);
    const flags = (await http().get(`${API}/admin/content-flags`).set(as(admin))).body.data;
    const flagId = flags.items[0].id as number;
    count = await rowCount();
    const cleared = await http().post(`${API}/admin/content-flags/${flagId}/clear`).set(as(admin));
    expect(cleared.status).toBe(200);
    await expectAudited(cleared, count, {
      actorId: admin.user.id,
      action: 'content_flag.clear',
      target: `content_flag:${flagId}`,
      before: { status: 'open' },
      after: { status: 'cleared' },
    });
    count = await rowCount();
    const again = await http().post(`${API}/admin/content-flags/${flagId}/clear`).set(as(admin));
    expect(again.status).toBe(409);
    expect(
      (await http().post(`${API}/admin/content-flags/999999/clear`).set(as(admin))).status,
    ).toBe(404);
    expect(await rowCount()).toBe(count);
  });

  it('records a dead-letter retry, and nothing for an unknown one', async () => {
    const orderId = await paidOrder();
    stack.wx.shippingErrcode = 10060001;
    let letter: { jobId: string; event: { id: number } } | undefined;
    try {
      expect((await ship(orderId, admin)).status).toBe(200);
      const eventId = Number(
        (
          await stack.db.dataSource.query(
            "SELECT id FROM outbox WHERE type = 'order.shipped' AND aggregate_id = ?",
            [String(orderId)],
          )
        )[0].id,
      );
      letter = await until(async () => {
        const res = await http()
          .get(`${API}/admin/queues/${SHIPPING_QUEUE}/dead-letters`)
          .set(as(admin));
        return (res.body.data.items as { jobId: string; event: { id: number } }[]).find(
          (l) => l.event.id === eventId,
        );
      }, 10_000);
    } finally {
      stack.wx.shippingErrcode = undefined;
    }
    const retry = (jobId: string) =>
      http()
        .post(`${API}/admin/queues/${SHIPPING_QUEUE}/dead-letters/${jobId}/retry`)
        .set(as(admin));
    let count = await rowCount();
    const retried = await retry(letter.jobId);
    expect(retried.status).toBe(200);
    await expectAudited(retried, count, {
      actorId: admin.user.id,
      action: 'dead_letter.retry',
      target: `job:${SHIPPING_QUEUE}/${letter.jobId}`,
      before: { state: 'dead' },
      after: { state: 'waiting' },
    });
    count = await rowCount();
    expect((await retry('e999999')).status).toBe(404);
    expect(await rowCount()).toBe(count);
  });

  it('two staff racing to ship one order: one 200, one 409, and only the winner’s row', async () => {
    for (let round = 0; round < 3; round++) {
      const orderId = await paidOrder();
      const count = await rowCount();
      const answers = await Promise.all([ship(orderId, operator), ship(orderId, admin)]);
      expect(answers.map((a) => a.status).sort((a, b) => a - b)).toEqual([200, 409]);
      const winner = answers[0].status === 200 ? operator : admin;
      expect(await rowCount()).toBe(count + 1);
      const rows = (await page(`?actorId=${winner.user.id}&limit=1`)).items;
      expect(rows[0]).toMatchObject({ action: 'order.ship', target: `order:${orderId}` });
      expect(rows[0].requestId).toBe(
        answers.find((a) => a.status === 200)!.headers['x-request-id'],
      );
    }
  });

  it('two concurrent updates of one product: two rows, each "before" the other’s "after" or the original', async () => {
    const id = await newProduct(admin, { stock: 1 });
    const count = await rowCount();
    const answers = await Promise.all(
      [2, 3].map((stock, i) =>
        http()
          .patch(`${API}/admin/products/${id}`)
          .set(as(i === 0 ? operator : admin))
          .send({ stock }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(await rowCount()).toBe(count + 2);
    const [second, first] = (await page('?limit=2')).items;
    expect(first.before).toEqual({ stock: 1 });
    expect(second.before).toEqual(first.after);
  });

  it('lists newest first, pages without gaps, filters by actor, and is admin-only', async () => {
    const all = (await page('?limit=100')).items;
    expect(all.length).toBe(await rowCount());
    expect(all.map((r) => r.id)).toEqual(all.map((r) => r.id).sort((a, b) => b - a));

    const paged: AuditRow[] = [];
    let cursor: string | null = null;
    do {
      const next: { items: AuditRow[]; nextCursor: string | null } = await page(
        `?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(next.items.length).toBeLessThanOrEqual(3);
      paged.push(...next.items);
      cursor = next.nextCursor;
    } while (cursor);
    expect(paged).toEqual(all);

    const mine = (await page(`?actorId=${operator.user.id}&limit=100`)).items;
    expect(mine.length).toBeGreaterThan(0);
    expect(mine).toEqual(all.filter((r) => r.actorId === operator.user.id));
    expect((await page(`?actorId=${buyer.user.id}`)).items).toEqual([]);

    for (const bad of ['?actorId=abc', '?actorId=0', '?limit=101', '?cursor=forged']) {
      const res = await http().get(`${API}/admin/audit${bad}`).set(as(admin));
      expect([res.status, res.body.code], bad).toEqual([400, 40000]);
    }
    for (const who of [operator, finance, support, buyer]) {
      const res = await http().get(`${API}/admin/audit`).set(as(who));
      expect([res.status, res.body.code]).toEqual([403, 40300]);
    }
    expect((await http().get(`${API}/admin/audit`)).status).toBe(401);
  });
});

describe('the audit log on the embedded engine (no DATABASE_URL, no REDIS_URL)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mp-audit-'));
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      EMBEDDED_DB_PATH: join(dir, 'audit.sqlite'),
      ADMIN_OPENIDS: SandboxWechatClient.openidFor('audit-admin'),
    });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records product writes in their transaction and lists them', async () => {
    const login = await t.http.post(`${API}/auth/login`).send({ code: 'audit-admin' });
    const bearer = { Authorization: `Bearer ${login.body.data.accessToken as string}` };
    const adminId = login.body.data.user.id as number;
    const created = await t.http
      .post(`${API}/admin/products`)
      .set(bearer)
      .send({ name: 'Embedded tea', priceCents: 500, stock: 3 });
    expect(created.status).toBe(201);
    const id = created.body.data.id as number;
    const updates = await Promise.all(
      [4, 5].map((stock) =>
        t.http.patch(`${API}/admin/products/${id}`).set(bearer).send({ stock }),
      ),
    );
    expect(updates.map((u) => u.status)).toEqual([200, 200]);
    await t.http.delete(`${API}/admin/products/${id}`).set(bearer);
    expect(
      (await t.http.patch(`${API}/admin/products/${id}`).set(bearer).send({ stock: 9 })).status,
    ).toBe(404);

    const listed = await t.http.get(`${API}/admin/audit?actorId=${adminId}`).set(bearer);
    expect(listed.status).toBe(200);
    const items = listed.body.data.items as AuditRow[];
    expect(items.map((r) => r.action)).toEqual([
      'product.delete',
      'product.update',
      'product.update',
      'product.create',
    ]);
    expect(items.every((r) => r.target === `product:${id}` && r.actorId === adminId)).toBe(true);
    expect(items[2].before).toEqual({ stock: 3 });
    expect(items[1].before).toEqual(items[2].after);
    expect(items[0].requestId).toBeTruthy();
  });
});
