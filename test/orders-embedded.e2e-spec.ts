import { SandboxWechatClient } from '../src/modules/wechat/index.js';
import { startEmbeddedTestApp, type TestApp } from './helpers/app.js';

// The embedded quick start has one SQLite connection: order transactions take
// turns in process, and the same rules hold as on MariaDB.
describe('orders in embedded mode (better-sqlite3, in-process stores)', () => {
  let t: TestApp;
  let admin = '';
  let user = '';
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const login = async (code: string) =>
    (await t.http.post('/api/v1/auth/login').send({ code })).body.data.accessToken as string;
  const place = (body: object, key: string) =>
    t.http.post('/api/v1/orders').set(bearer(user)).set('Idempotency-Key', key).send(body);
  const stockOf = async (id: number) =>
    (await t.http.get(`/api/v1/products/${id}`)).body.data.stock as number;

  beforeAll(async () => {
    t = await startEmbeddedTestApp({
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      SHUTDOWN_DRAIN_MS: '0',
      ADMIN_OPENIDS: SandboxWechatClient.openidFor('the-admin'),
    });
    admin = await login('the-admin');
    user = await login('a-buyer');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('places, replays, refuses when short and cancels', async () => {
    const created = await t.http
      .post('/api/v1/admin/products')
      .set(bearer(admin))
      .send({ name: 'Jasmine', priceCents: 300, stock: 5 });
    const productId = created.body.data.id as number;

    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        place({ items: [{ productId, quantity: 1 }] }, `embedded-key-${i}`),
      ),
    );
    expect(results.map((r) => r.status).sort((x, y) => x - y)).toEqual([
      201, 201, 201, 201, 201, 409, 409, 409,
    ]);
    expect(await stockOf(productId)).toBe(0);

    const first = results.find((r) => r.status === 201)!;
    const key = `embedded-key-${results.indexOf(first)}`;
    const replay = await place({ items: [{ productId, quantity: 1 }] }, key);
    expect(replay.status).toBe(200);
    expect(replay.body.data).toEqual(first.body.data);
    expect((await place({ items: [{ productId, quantity: 2 }] }, key)).status).toBe(409);

    const cancel = await t.http
      .post(`/api/v1/orders/${first.body.data.id}/cancel`)
      .set(bearer(user));
    expect(cancel.body.data.status).toBe('cancelled');
    expect(await stockOf(productId)).toBe(1);
    const list = await t.http.get('/api/v1/orders').set(bearer(user));
    expect(list.body.data.items).toHaveLength(5);
  });
});
