import { randomBytes } from 'node:crypto';
import { SandboxWechatClient } from '../src/modules/wechat/index.js';
import { startEmbeddedTestApp, type TestApp } from './helpers/app.js';
import { until } from './helpers/until.js';

// The embedded quick start: the in-process queue and the sandbox WeChat,
// which logs the message it would have sent.
describe('subscribe messages in embedded mode (sql.js, in-process queue, sandbox WeChat)', () => {
  let t: TestApp;
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const login = async (code: string) =>
    (await t.http.post('/api/v1/auth/login').send({ code })).body.data.accessToken as string;

  beforeAll(async () => {
    t = await startEmbeddedTestApp({
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      SHUTDOWN_DRAIN_MS: '0',
      ADMIN_OPENIDS: SandboxWechatClient.openidFor('the-admin'),
      ORDER_PAYMENT_TIMEOUT_S: '1',
      ORDER_SWEEP_INTERVAL_MS: '60000',
      WECHAT_SUBSCRIBE_TEMPLATE_ORDER_TIMEOUT: 'tplTimeout',
      WECHAT_SUBSCRIBE_FIELDS_ORDER_TIMEOUT: 'character_string1=orderNo,thing2=reason',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('spends the credit of an order closed by the payment timeout on one message', async () => {
    const admin = await login('the-admin');
    const user = await login('a-subscriber');
    const product = await t.http
      .post('/api/v1/admin/products')
      .set(bearer(admin))
      .send({ name: 'Jasmine', priceCents: 300, stock: 5 });
    const accepted = await t.http
      .post('/api/v1/users/me/subscriptions')
      .set(bearer(user))
      .send({ accepted: ['tplTimeout'] });
    expect(accepted.status).toBe(200);
    expect(accepted.body.data.items).toEqual([
      { templateId: 'tplTimeout', topic: 'order_timeout', credits: 1 },
    ]);
    const order = await t.http
      .post('/api/v1/orders')
      .set(bearer(user))
      .set('Idempotency-Key', `k-${randomBytes(8).toString('hex')}`)
      .send({ items: [{ productId: product.body.data.id, quantity: 1 }] });
    expect(order.status).toBe(201);
    const openid = SandboxWechatClient.openidFor('a-subscriber');
    const line = await until(
      async () => t.rawLogs().includes(`subscribe message tplTimeout to ${openid}`) && t.rawLogs(),
      10_000,
    );
    expect(line).toContain(
      JSON.stringify({
        character_string1: String(order.body.data.id),
        thing2: '超时未支付',
      }).replaceAll('"', '\\"'),
    );
    // The credit was spent: accepting again makes it 1, not 2.
    const again = await t.http
      .post('/api/v1/users/me/subscriptions')
      .set(bearer(user))
      .send({ accepted: ['tplTimeout'] });
    expect(again.body.data.items[0].credits).toBe(1);
  });
});
