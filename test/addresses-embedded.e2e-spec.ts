import { randomBytes } from 'node:crypto';
import { SandboxWechatClient } from '../src/modules/wechat/index.js';
import { SAMPLE_ADDRESS } from './helpers/addresses.js';
import { startEmbeddedTestApp, type TestApp } from './helpers/app.js';
import { until } from './helpers/until.js';

// The embedded engine locks nothing: its transactions take turns in process,
// which must keep the same book, receipt and after-sales rules as the row
// lock on MariaDB.
describe('addresses, receipt and after-sales in embedded mode (better-sqlite3, sandbox WeChat Pay)', () => {
  let t: TestApp;
  let admin = '';
  let user = '';
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const login = async (code: string) =>
    (await t.http.post('/api/v1/auth/login').send({ code })).body.data.accessToken as string;
  let completedOrderId = 0;
  const addAddress = (body: object) =>
    t.http.post('/api/v1/users/me/addresses').set(bearer(user)).send(body);

  beforeAll(async () => {
    t = await startEmbeddedTestApp({
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      SHUTDOWN_DRAIN_MS: '0',
      ADMIN_OPENIDS: SandboxWechatClient.openidFor('the-admin'),
    });
    admin = await login('the-admin');
    user = await login('an-addressee');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('keeps one default and at most 20 addresses while 22 writes race', async () => {
    const results = await Promise.all(
      Array.from({ length: 22 }, (_, i) =>
        addAddress({ ...SAMPLE_ADDRESS, name: `R${i}`, isDefault: i % 2 === 0 }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(20);
    expect(results.filter((r) => r.status === 409)).toHaveLength(2);
    const book = (await t.http.get('/api/v1/users/me/addresses').set(bearer(user))).body.data as {
      id: number;
      isDefault: boolean;
    }[];
    expect(book).toHaveLength(20);
    expect(book.filter((a) => a.isDefault)).toHaveLength(1);
    expect(book[0].isDefault).toBe(true);
    for (const a of book.slice(1)) {
      await t.http.delete(`/api/v1/users/me/addresses/${a.id}`).set(bearer(user));
    }
  });

  it('pays an express order only with an address, keeps its copy, and completes on receipt', async () => {
    const product = await t.http
      .post('/api/v1/admin/products')
      .set(bearer(admin))
      .send({ name: 'Jasmine', priceCents: 300, stock: 5 });
    const order = await t.http
      .post('/api/v1/orders')
      .set(bearer(user))
      .set('Idempotency-Key', `emb-${randomBytes(6).toString('hex')}`)
      .send({ items: [{ productId: product.body.data.id, quantity: 1 }] });
    const orderId = order.body.data.id as number;
    const pay = () => t.http.post(`/api/v1/orders/${orderId}/payment`).set(bearer(user));
    expect((await pay()).body.code).toBe(40920);

    const address = await addAddress({ ...SAMPLE_ADDRESS, name: 'Embedded' });
    const set = await t.http
      .put(`/api/v1/orders/${orderId}/address`)
      .set(bearer(user))
      .send({ addressId: address.body.data.id });
    expect(set.body.data.address).toMatchObject({ name: 'Embedded' });
    await t.http.delete(`/api/v1/users/me/addresses/${address.body.data.id}`).set(bearer(user));

    expect((await pay()).status).toBe(200);
    const paid = await t.http.post(`/api/v1/dev/payments/${orderId}/succeed`).set(bearer(user));
    expect(paid.body.data.status).toBe('paid');
    const shipped = await t.http
      .post(`/api/v1/admin/orders/${orderId}/ship`)
      .set(bearer(admin))
      .send({ carrier: 'SF' });
    expect(shipped.status).toBe(200);
    const late = await t.http
      .put(`/api/v1/orders/${orderId}/address`)
      .set(bearer(user))
      .send(SAMPLE_ADDRESS);
    expect(late.status).toBe(409);

    const confirmed = await Promise.all(
      Array.from({ length: 4 }, () =>
        t.http.post(`/api/v1/orders/${orderId}/confirm-receipt`).set(bearer(user)),
      ),
    );
    expect(confirmed.map((r) => r.status).sort((x, y) => x - y)).toEqual([200, 409, 409, 409]);
    const final = await t.http.get(`/api/v1/orders/${orderId}`).set(bearer(user));
    expect(final.body.data).toMatchObject({
      status: 'completed',
      address: { ...SAMPLE_ADDRESS, name: 'Embedded' },
    });
    completedOrderId = orderId;
  });

  it('opens one of racing after-sales requests; its approval refunds the completed order once', async () => {
    const orderId = completedOrderId;
    const ask = (type: string) =>
      t.http
        .post(`/api/v1/orders/${orderId}/after-sales`)
        .set(bearer(user))
        .set('Idempotency-Key', `emb-${randomBytes(6).toString('hex')}`)
        .send({ type, reason: 'broken' });
    const answers = await Promise.all([ask('refund'), ask('refund'), ask('return_refund')]);
    expect(answers.map((r) => r.status).sort((x, y) => x - y)).toEqual([201, 409, 409]);
    expect(answers.filter((r) => r.status === 409).map((r) => r.body.code)).toEqual([40921, 40921]);
    const id = answers.find((r) => r.status === 201)?.body.data.id as number;
    const approvals = await Promise.all(
      [1, 2].map(() =>
        t.http.post(`/api/v1/admin/after-sales/${id}/approve`).set(bearer(admin)).send({}),
      ),
    );
    expect(approvals.map((r) => r.status).sort((x, y) => x - y)).toEqual([200, 409]);
    // The sandbox refunds at once; the in-process queue settles the request.
    const list = () => t.http.get(`/api/v1/orders/${orderId}/after-sales`).set(bearer(user));
    await until(async () => (await list()).body.data.items[0].status === 'refunded', 10_000);
    expect((await t.http.get(`/api/v1/orders/${orderId}`).set(bearer(user))).body.data.status).toBe(
      'refunded',
    );
    const staffView = await t.http.get(`/api/v1/admin/orders/${orderId}`).set(bearer(admin));
    expect(staffView.body.data.refunds).toHaveLength(1);
    expect(staffView.body.data.afterSales).toEqual([
      expect.objectContaining({ id, status: 'refunded', approvedCents: 300 }),
    ]);
    // Closed, but a refunded order takes no new request.
    expect((await ask('refund')).body.code).toBe(40921);
  });
});
