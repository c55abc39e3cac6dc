import { randomBytes } from 'node:crypto';
import { SandboxWechatClient } from '../src/modules/wechat/index.js';
import { SAMPLE_ADDRESS } from './helpers/addresses.js';
import { startEmbeddedTestApp, type TestApp } from './helpers/app.js';

// The embedded engine stores times as text: the keyset, the date filters and
// the export's pages must compare them exactly as MariaDB does.
describe('the back office reads in embedded mode (better-sqlite3, sandbox WeChat Pay)', () => {
  let t: TestApp;
  let admin = '';
  let support = '';
  let buyer = '';
  const placed: number[] = [];
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const login = async (code: string) =>
    (await t.http.post('/api/v1/auth/login').send({ code })).body.data as {
      accessToken: string;
      user: { id: number };
    };
  const get = (path: string, token = support) => t.http.get(`/api/v1${path}`).set(bearer(token));
  const ids = (res: { body: { data: { items: { id: number }[] } } }) =>
    res.body.data.items.map((o) => o.id);

  beforeAll(async () => {
    t = await startEmbeddedTestApp({
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      SHUTDOWN_DRAIN_MS: '0',
      ADMIN_OPENIDS: SandboxWechatClient.openidFor('bo-admin'),
    });
    admin = (await login('bo-admin')).accessToken;
    const staff = await login('bo-support');
    support = staff.accessToken;
    await t.http
      .put(`/api/v1/admin/users/${staff.user.id}/role`)
      .set(bearer(admin))
      .send({ role: 'support' });
    buyer = (await login('bo-buyer')).accessToken;
    const product = await t.http
      .post('/api/v1/admin/products')
      .set(bearer(admin))
      .send({ name: '龙井, "特级"', priceCents: 300, stock: 50 });
    for (const [i, name] of ['王五', 'Li Si', '=cmd'].entries()) {
      const address = await t.http
        .post('/api/v1/users/me/addresses')
        .set(bearer(buyer))
        .send({ ...SAMPLE_ADDRESS, name, phone: `1390000000${i}` });
      const order = await t.http
        .post('/api/v1/orders')
        .set(bearer(buyer))
        .set('Idempotency-Key', `bo-emb-${randomBytes(6).toString('hex')}`)
        .send({
          items: [{ productId: product.body.data.id, quantity: 1 + i }],
          addressId: address.body.data.id,
        });
      expect(order.status).toBe(201);
      placed.push(order.body.data.id);
    }
    const paid = placed[1];
    await t.http.post(`/api/v1/orders/${paid}/payment`).set(bearer(buyer));
    expect(
      (await t.http.post(`/api/v1/dev/payments/${paid}/succeed`).set(bearer(buyer))).status,
    ).toBe(200);
    const shipped = await t.http
      .post(`/api/v1/admin/orders/${paid}/ship`)
      .set(bearer(admin))
      .send({
        packages: [
          { carrier: 'SF', trackingNo: 'SF-EMB-1' },
          { carrier: 'ZTO', trackingNo: 'ZT-EMB-2' },
        ],
      });
    expect(shipped.status).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists, filters, searches and pages', async () => {
    const newest = [...placed].reverse();
    expect(ids(await get('/admin/orders'))).toEqual(newest);
    expect(ids(await get('/admin/orders?status=shipped'))).toEqual([placed[1]]);
    expect(ids(await get('/admin/orders?status=pending'))).toEqual([placed[2], placed[0]]);
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    expect(ids(await get(`/admin/orders?from=${hourAgo}`))).toEqual(newest);
    expect(ids(await get(`/admin/orders?to=${hourAgo}`))).toEqual([]);
    expect(ids(await get(`/admin/orders?q=${encodeURIComponent('王五')}`))).toEqual([placed[0]]);
    expect(ids(await get('/admin/orders?q=13900000002'))).toEqual([placed[2]]);
    expect(ids(await get('/admin/orders?q=SF-EMB-1'))).toEqual([placed[1]]);
    expect(ids(await get('/admin/orders?q=ZT-EMB-2'))).toEqual([placed[1]]);
    expect(ids(await get(`/admin/orders?q=${placed[0]}`))).toEqual([placed[0]]);

    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/admin/orders?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...ids(res));
      cursor = res.body.data.nextCursor;
    } while (cursor);
    expect(seen).toEqual(newest);
  });

  it('shows an order with its payment, shipment and timeline', async () => {
    const res = await get(`/admin/orders/${placed[1]}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      status: 'shipped',
      payments: [expect.objectContaining({ paidCents: 600 })],
      shipments: [
        expect.objectContaining({ carrier: 'SF', trackingNo: 'SF-EMB-1' }),
        expect.objectContaining({ carrier: 'ZTO', trackingNo: 'ZT-EMB-2' }),
      ],
      afterSales: [],
    });
    expect(res.body.data.timeline.map((e: { to: string }) => e.to)).toEqual([
      'pending',
      'paid',
      'shipped',
    ]);
  });

  it('exports CSV with a BOM, escaped and neutralised cells, for admins only', async () => {
    expect((await get('/admin/orders/export')).status).toBe(403);
    const res = await get('/admin/orders/export', admin)
      .buffer(true)
      .parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => done(null, Buffer.concat(chunks)));
      });
    expect(res.status).toBe(200);
    const text = (res.body as Buffer).toString('utf8');
    expect(text.startsWith('\uFEFForder_id,')).toBe(true);
    const lines = text.trimEnd().split('\r\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain(`"'=cmd"`);
    expect(lines[3]).toContain('王五');
    expect(lines[3]).toContain('"龙井, ""特级"""');
  });
});
