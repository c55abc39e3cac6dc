import { loginAs, type LoggedIn } from './helpers/auth.js';
import { useStack } from './helpers/stack.js';

/** GET /admin/dashboard, the staff console's figures (docs/staff.md#dashboard), on MariaDB. */

const ADMIN = 'dashboard-admin';
const API = '/api/v1';
const HOUR = 3_600_000;

describe('the dashboard (MariaDB)', () => {
  // API only: no relay publishes the outbox, so its backlog stays as the test makes it.
  const stack = useStack({
    env: { LOG_LEVEL: 'error', ADMIN_OPENIDS: ADMIN, WORKER_MODE: 'http' },
  });
  const as = (user: LoggedIn) => ({ Authorization: `Bearer ${user.accessToken}` });
  const q = (sql: string, params: unknown[] = []) => stack.db.dataSource.query(sql, params);
  let admin: LoggedIn;
  let support: LoggedIn;
  let buyer: LoggedIn;
  let seq = 0;

  async function order(status: string, total: number, refunded: number, at: Date) {
    seq++;
    await q(
      `INSERT INTO orders (user_id, status, total_cents, idempotency_key, request_hash, pay_before,
         refunded_cents, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [buyer.user.id, status, total, `dash-${seq}`, 'h'.repeat(64), at, refunded, at, at],
    );
  }

  async function sale(name: string, stock: number, remaining: number, starts: Date, ends: Date) {
    await q(
      `INSERT INTO flash_sales (product_id, product_name, price_cents, stock, remaining, per_user_limit,
         starts_at, ends_at, created_at, updated_at)
       VALUES (1, ?, 100, ?, ?, 1, ?, ?, NOW(6), NOW(6))`,
      [name, stock, remaining, starts, ends],
    );
  }

  async function pushed(name: string, at: Date) {
    seq++;
    await q(
      `INSERT INTO wechat_push_messages (dedup_key, msg_type, name, payload, received_at)
       VALUES (?, 'event', ?, '{}', ?)`,
      [`dash-${seq}`, name, at],
    );
  }

  const since = new Date(Date.now() - 2 * HOUR);
  const before = new Date(since.getTime() - HOUR);

  beforeAll(async () => {
    admin = await loginAs(stack.app, stack.wx, { admin: true });
    support = await loginAs(stack.app, stack.wx);
    const set = await stack.app.http
      .put(`${API}/admin/users/${support.user.id}/role`)
      .set(as(admin))
      .send({ role: 'support' });
    expect(set.status).toBe(200);
    buyer = await loginAs(stack.app, stack.wx);
    const now = new Date();
    await order('paid', 1000, 0, now);
    await order('shipped', 2000, 0, now);
    await order('refunded', 500, 500, now);
    await order('completed', 300, 100, now);
    await order('pending', 700, 0, now);
    await order('cancelled', 900, 0, now);
    await order('paid', 5000, 0, before); // before `since`: not counted
    await sale('live tea', 10, 7, new Date(now.getTime() - HOUR), new Date(now.getTime() + HOUR));
    await sale(
      'ended tea',
      10,
      0,
      new Date(now.getTime() - 3 * HOUR),
      new Date(now.getTime() - HOUR),
    );
    await sale(
      'later tea',
      10,
      10,
      new Date(now.getTime() + HOUR),
      new Date(now.getTime() + 2 * HOUR),
    );
    await pushed('trade_manage_remind_shipping', now);
    await pushed('trade_manage_remind_shipping', now);
    await pushed('trade_manage_remind_shipping', before);
    await pushed('trade_manage_order_settlement', now);
    const [paid, shipped] = (await q(
      "SELECT id FROM orders WHERE status IN ('paid', 'shipped') AND created_at >= ? ORDER BY id",
      [since],
    )) as { id: number }[];
    const request = (orderId: number, status: string, open: boolean) =>
      q(
        `INSERT INTO after_sales (order_id, user_id, type, status, open_order_id, amount_cents, reason,
           idempotency_key, request_hash)
         VALUES (?, ?, 'refund', ?, ?, 100, 'broken', ?, ?)`,
        [
          orderId,
          buyer.user.id,
          status,
          open ? orderId : null,
          `as-${orderId}-${status}`,
          'h'.repeat(64),
        ],
      );
    await request(paid.id, 'requested', true);
    await request(shipped.id, 'rejected', false);
  });

  it('counts the orders placed since `from`, the money of the paid ones, the reminders and the live sales', async () => {
    const res = await stack.app.http
      .get(`${API}/admin/dashboard`)
      .query({ from: since.toISOString() })
      .set(as(support));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const data = res.body.data;
    expect(data.since).toBe(since.toISOString());
    expect(data.orders).toEqual({
      placed: 6,
      paidCents: 1000 + 2000 + 500 + 300,
      refundedCents: 600,
    });
    expect(data.shippingReminders).toBe(2);
    expect(data.afterSales).toEqual({ open: 1 });
    expect(data.flashSales).toEqual([
      expect.objectContaining({ productName: 'live tea', stock: 10, persisted: 3 }),
    ]);
    // Without `from`: since UTC midnight.
    const today = await stack.app.http.get(`${API}/admin/dashboard`).set(as(support));
    expect(today.body.data.since).toBe(new Date(new Date().setUTCHours(0, 0, 0, 0)).toISOString());
  });

  it('shows the outbox backlog: how many events wait, since when', async () => {
    const read = async () =>
      (await stack.app.http.get(`${API}/admin/dashboard`).set(as(admin))).body.data.outbox;
    const start = await read();
    const old = new Date(Date.now() - 10 * 60_000);
    const event = (createdAt: Date, publishedAt: Date | null) =>
      q(
        `INSERT INTO outbox (type, aggregate_type, aggregate_id, payload, created_at, published_at)
         VALUES ('dashboard.test', 'test', '1', '{}', ?, ?)`,
        [createdAt, publishedAt],
      );
    // Published long ago: not a backlog.
    await event(new Date(old.getTime() - 60_000), old);
    expect(await read()).toEqual(start);
    await event(old, null);
    expect(await read()).toEqual({
      unpublished: start.unpublished + 1,
      oldestUnpublishedAt: old.toISOString(),
    });
  });

  it('is for staff only, and refuses a bad `from`', async () => {
    const user = await stack.app.http.get(`${API}/admin/dashboard`).set(as(buyer));
    expect([user.status, user.body.code]).toEqual([403, 40300]);
    expect((await stack.app.http.get(`${API}/admin/dashboard`)).status).toBe(401);
    const bad = await stack.app.http
      .get(`${API}/admin/dashboard`)
      .query({ from: 'yesterday' })
      .set(as(admin));
    expect([bad.status, bad.body.code, bad.body.data.errors[0].field]).toEqual([
      400,
      40000,
      'from',
    ]);
  });
});
