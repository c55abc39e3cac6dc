import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import {
  ApiError,
  Codes,
  createClient,
  NetworkError,
  WxCallError,
  type Client,
  type ClientOptions,
} from '../sdk/src/index.js';
import { SandboxWechatClient } from '../src/modules/wechat/index.js';
import { startEmbeddedTestApp, type TestApp } from './helpers/app.js';
import { loginAs } from './helpers/auth.js';
import { useStack } from './helpers/stack.js';
import { wxOverFetch, type WxShim, type WxShimOptions } from './helpers/wx-over-fetch.js';

/**
 * The mini-program SDK (sdk/) against the real backend, listening on a port,
 * through a `wx` made of fetch (helpers/wx-over-fetch.ts): on MariaDB and
 * Redis with the fake WeChat, and in the embedded quick start with the
 * sandbox WeChat. Payments use the backend's WeChat Pay sandbox.
 */
const TEMPLATE = 'tpl-sdk-paid';
const TEMPLATE_ENV = {
  WECHAT_SUBSCRIBE_TEMPLATE_ORDER_PAID: TEMPLATE,
  WECHAT_SUBSCRIBE_FIELDS_ORDER_PAID: 'thing1=productName,amount2=total',
};
const STORAGE_KEY = 'wxmp.tokens';
/** What wx.chooseAddress answers when the user picks an address (the number as WeChat spaces it). */
const PICKED = {
  userName: 'Zhang San',
  telNumber: '138 0013 8000',
  provinceName: 'Guangdong',
  cityName: 'Guangzhou',
  countyName: 'Haizhu',
  detailInfo: 'No. 1 Xingang Road',
  postalCode: '510000',
  nationalCode: '440105',
};

interface Backend {
  app: TestApp;
  origin: string;
  /** A wx.login code of the WeChat user `name`. */
  codeFor: (name: string) => string;
  adminToken: string;
}

async function listen(app: TestApp): Promise<string> {
  await app.app.listen(0, '127.0.0.1');
  return (await app.app.getUrl()).replace('[::1]', '127.0.0.1');
}

/** `flashSales`: flash sales need Redis, so the embedded mode has none to buy in. */
function sdkScenarios(backend: () => Backend, { flashSales }: { flashSales: boolean }) {
  const clientOf = (
    shim: Partial<WxShimOptions> = {},
    options: Partial<ClientOptions> = {},
  ): { client: Client; wx: WxShim } => {
    // One WeChat user per client: every wx.login of it signs in the same user.
    const user = `sdk-${randomBytes(6).toString('hex')}`;
    const wx = wxOverFetch({ loginCode: () => backend().codeFor(user), ...shim });
    const client = createClient({
      baseUrl: backend().origin,
      wx,
      retry: { baseDelayMs: 10 },
      ...options,
    });
    return { client, wx };
  };
  /**
   * A client whose payment sheet pays: the sandbox delivers the notification
   * a real payment would, for the order `paying.orderId` names.
   */
  const payingClient = () => {
    const paying = { orderId: 0 };
    const { client, wx } = clientOf({
      address: PICKED,
      pay: async () => {
        const { accessToken } = JSON.parse(wx.storage.get(STORAGE_KEY) as string) as {
          accessToken: string;
        };
        const res = await fetch(
          `${backend().origin}/api/v1/dev/payments/${paying.orderId}/succeed`,
          { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } },
        );
        expect(res.status).toBe(200);
      },
    });
    return { client, wx, paying };
  };
  const admin = (method: 'post' | 'patch', path: string, body: object) =>
    backend()
      .app.http[method](`/api/v1${path}`)
      .set('Authorization', `Bearer ${backend().adminToken}`)
      .send(body);
  const newProduct = async (stock = 20, priceCents = 1000): Promise<number> => {
    const res = await admin('post', '/admin/products', { name: 'Oolong', priceCents, stock });
    expect(res.status).toBe(201);
    return res.body.data.id as number;
  };
  /** The stored access token swapped for one of the same session that expired a minute ago. */
  const expireAccessToken = (wx: WxShim) => {
    const stored = JSON.parse(wx.storage.get(STORAGE_KEY) as string) as { accessToken: string };
    const claims = jwt.decode(stored.accessToken) as jwt.JwtPayload;
    const expired = jwt.sign(
      {
        sub: claims.sub,
        sid: claims.sid,
        role: claims.role,
        exp: Math.floor(Date.now() / 1000) - 60,
      },
      backend().app.config.jwt.secret,
      { algorithm: 'HS256' },
    );
    wx.storage.set(STORAGE_KEY, JSON.stringify({ ...stored, accessToken: expired }));
    return expired;
  };
  const calls = (wx: WxShim, method: string, path: string) =>
    wx.exchanges.filter((e) => e.method === method && e.path === `/api/v1${path}`);

  it('signs in on the first authenticated call and keeps the pair in storage', async () => {
    const { client, wx } = clientOf();
    expect(client.signedIn).toBe(false);
    const me = await client.me();
    expect(me.role).toBe('user');
    expect(calls(wx, 'POST', '/auth/login')).toHaveLength(1);
    expect(JSON.parse(wx.storage.get(STORAGE_KEY) as string)).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
    });
  });

  it('updateMe sets the nickname or the avatar with PUT /users/me (wx.request has no PATCH)', async () => {
    const { client, wx } = clientOf();
    const avatarUrl = 'https://cdn.example.com/avatars/sdk.png';
    await client.updateMe({ nickname: 'Oolong fan', avatarUrl });
    const renamed = await client.updateMe({ nickname: 'Green tea fan' });
    expect(renamed).toMatchObject({ nickname: 'Green tea fan', avatarUrl });
    expect((await client.me()).nickname).toBe('Green tea fan');
    expect(calls(wx, 'PUT', '/users/me').map((e) => e.status)).toEqual([200, 200]);
  });

  it('40 parallel requests on an expired token share exactly one refresh', async () => {
    const { client, wx } = clientOf();
    const { user } = await client.login();
    const expired = expireAccessToken(wx);
    const answers = await Promise.all(Array.from({ length: 40 }, () => client.me()));
    expect(answers.every((me) => me.id === user.id)).toBe(true);
    expect(calls(wx, 'POST', '/auth/refresh').map((e) => e.status)).toEqual([200]);
    expect(calls(wx, 'GET', '/users/me').filter((e) => e.status === 401)).toHaveLength(40);
    expect(JSON.parse(wx.storage.get(STORAGE_KEY) as string).accessToken).not.toBe(expired);
  });

  it('two clients on one storage refreshing together get the one new pair', async () => {
    const storage = new Map<string, string>();
    let releaseFirst!: () => void;
    const secondAnswered = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstRotated!: () => void;
    const rotated = new Promise<void>((resolve) => (firstRotated = resolve));
    // The first refresh answer is held until the second client's refresh is answered.
    const a = clientOf({
      storage,
      deliver: async (e) => {
        if (e.path.endsWith('/auth/refresh')) {
          firstRotated();
          await secondAnswered;
        }
      },
    });
    const b = clientOf({
      storage,
      deliver: (e) => {
        if (e.path.endsWith('/auth/refresh')) releaseFirst();
      },
    });
    const { user } = await a.client.login();
    expireAccessToken(a.wx);
    const first = a.client.me();
    await rotated;
    const second = b.client.me();
    expect((await Promise.all([first, second])).map((me) => me.id)).toEqual([user.id, user.id]);
    expect(calls(a.wx, 'POST', '/auth/refresh').map((e) => e.status)).toEqual([200]);
    expect(calls(b.wx, 'POST', '/auth/refresh').map((e) => e.status)).toEqual([200]);
    // The session lives on: no re-login, and the stored pair works for both.
    expect(calls(b.wx, 'POST', '/auth/login')).toHaveLength(0);
    expect((await b.client.me()).id).toBe(user.id);
    expect((await a.client.me()).id).toBe(user.id);
  });

  it('a lost answer to a refresh is retried and gets the same pair: the session lives on', async () => {
    let dropped = false;
    const { client, wx } = clientOf({
      deliver: (e) => {
        if (e.path.endsWith('/auth/refresh') && !dropped) {
          dropped = true;
          return 'drop';
        }
      },
    });
    const { user } = await client.login();
    expireAccessToken(wx);
    expect((await client.me()).id).toBe(user.id);
    // Both reached the backend; the second, a repeat, was answered with the pair.
    expect(calls(wx, 'POST', '/auth/refresh').map((e) => e.status)).toEqual([200, 200]);
    expect(calls(wx, 'POST', '/auth/login')).toHaveLength(1);
    // The stored refresh token is the live one: the next refresh rotates it.
    expireAccessToken(wx);
    expect((await client.me()).id).toBe(user.id);
    expect(calls(wx, 'POST', '/auth/refresh').map((e) => e.status)).toEqual([200, 200, 200]);
  });

  it('a lost answer to POST /orders is retried with the same key: one order, stock taken once', async () => {
    const productId = await newProduct(10);
    let dropped = false;
    const { client, wx } = clientOf({
      deliver: (e) => {
        if (e.method === 'POST' && e.path === '/api/v1/orders' && !dropped) {
          dropped = true;
          return 'drop';
        }
      },
    });
    const order = await client.placeOrder({ items: [{ productId, quantity: 3 }] });
    expect(calls(wx, 'POST', '/orders').map((e) => e.status)).toEqual([201, 200]);
    const mine = await client.orders();
    expect(mine.items.map((o) => o.id)).toEqual([order.id]);
    expect((await client.product(productId)).stock).toBe(7);
    // A new logical order gets a new key: a second order.
    const next = await client.placeOrder({ items: [{ productId, quantity: 1 }] });
    expect(next.id).not.toBe(order.id);
  });

  it('a write without an Idempotency-Key is not retried after a lost answer', async () => {
    const productId = await newProduct(5);
    let drop = false;
    const { client, wx } = clientOf({ deliver: () => (drop ? 'drop' : undefined) });
    const order = await client.placeOrder({ items: [{ productId, quantity: 1 }] });
    drop = true;
    await expect(client.cancelOrder(order.id)).rejects.toBeInstanceOf(NetworkError);
    expect(calls(wx, 'POST', `/orders/${order.id}/cancel`)).toHaveLength(1);
  });

  it('pays an order on the WeChat Pay sandbox: parameters, the sheet, the confirmation', async () => {
    const productId = await newProduct(5, 1200);
    const { client, wx, paying } = payingClient();
    const order = await client.placeOrder({ items: [{ productId, quantity: 1 }] });
    paying.orderId = order.id;
    // Express goods: no payment sheet before the order has an address.
    const refused = (await client.pay(order.id).catch((e: unknown) => e)) as ApiError;
    expect([refused.status, refused.code]).toEqual([409, Codes.ADDRESS_REQUIRED]);
    expect(wx.payments).toHaveLength(0);
    const address = await client.chooseAddress();
    expect((await client.setOrderAddress(order.id, { addressId: address.id })).address).toEqual(
      expect.objectContaining({ name: PICKED.userName, phone: '13800138000' }),
    );
    const paid = await client.pay(order.id);
    expect(paid).toMatchObject({ id: order.id, status: 'paid', totalCents: 1200 });
    expect(wx.payments).toHaveLength(1);
    expect(wx.payments[0]).toMatchObject({
      signType: 'RSA',
      package: expect.stringMatching(/^prepay_id=sandbox_/),
    });
    expect(calls(wx, 'POST', `/orders/${order.id}/payment/confirm`)).toHaveLength(1);
  });

  it("the buyer's after-sales: ask (one open per order), list, withdraw, send a return back", async () => {
    const productId = await newProduct(5, 800);
    const { client, paying } = payingClient();
    const { id: addressId } = await client.chooseAddress();
    const order = await client.placeOrder({ items: [{ productId, quantity: 1 }], addressId });
    paying.orderId = order.id;
    await client.pay(order.id);
    const asked = await client.requestAfterSales(order.id, { type: 'refund', reason: 'late' });
    expect(asked).toMatchObject({ orderId: order.id, status: 'requested', amountCents: 800 });
    const second = (await client
      .requestAfterSales(order.id, { type: 'return_refund', reason: 'again' })
      .catch((e: unknown) => e)) as ApiError;
    expect([second.status, second.code]).toEqual([409, Codes.AFTER_SALES_NOT_ALLOWED]);
    expect((await client.afterSales(order.id)).items.map((r) => r.id)).toEqual([asked.id]);
    expect((await client.cancelAfterSales(asked.id)).status).toBe('cancelled');

    const returned = await client.requestAfterSales(order.id, {
      type: 'return_refund',
      reason: 'wrong size',
    });
    // Not approved yet: nothing to send back.
    const early = (await client
      .sendReturnShipment(returned.id, { carrier: 'SF', trackingNo: 'SF1' })
      .catch((e: unknown) => e)) as ApiError;
    expect([early.status, early.code]).toEqual([409, Codes.CONFLICT]);
    expect((await admin('post', `/admin/after-sales/${returned.id}/approve`, {})).status).toBe(200);
    const sent = await client.sendReturnShipment(returned.id, { carrier: 'SF', trackingNo: 'SF1' });
    expect(sent).toMatchObject({ status: 'returning', returnTrackingNo: 'SF1' });
  });

  it('chooseAddress saves what wx.chooseAddress picked, under the backend names', async () => {
    const { client } = clientOf({ address: { ...PICKED, postalCode: '' } });
    const saved = await client.chooseAddress();
    expect(saved).toEqual({
      id: expect.any(Number),
      name: 'Zhang San',
      phone: '13800138000',
      province: 'Guangdong',
      city: 'Guangzhou',
      district: 'Haizhu',
      detail: 'No. 1 Xingang Road',
      postalCode: null,
      isDefault: true,
    });
    const second = await client.chooseAddress({ isDefault: true });
    expect((await client.addresses()).map((a) => [a.id, a.isDefault])).toEqual([
      [second.id, true],
      [saved.id, false],
    ]);
    const cancelled = clientOf();
    const err = (await cancelled.client.chooseAddress().catch((e: unknown) => e)) as WxCallError;
    expect(err).toBeInstanceOf(WxCallError);
    expect(err.cancelled).toBe(true);
    expect(calls(cancelled.wx, 'POST', '/users/me/addresses')).toHaveLength(0);
  });

  it('a cancelled payment sheet rejects with WxCallError and leaves the order pending', async () => {
    const productId = await newProduct(5);
    const { client, wx } = clientOf({ address: PICKED });
    const { id: addressId } = await client.chooseAddress();
    const order = await client.placeOrder({ items: [{ productId, quantity: 1 }], addressId });
    expect(order.address).toMatchObject({ name: PICKED.userName });
    const err = (await client.pay(order.id).catch((e: unknown) => e)) as WxCallError;
    expect(err).toBeInstanceOf(WxCallError);
    expect(err.cancelled).toBe(true);
    expect(calls(wx, 'POST', `/orders/${order.id}/payment/confirm`)).toHaveLength(0);
    expect((await client.order(order.id)).status).toBe('pending');
  });

  it('40102 runs the re-login hook once for parallel requests, then sends them again', async () => {
    let hookRuns = 0;
    const { client, wx } = clientOf(
      {},
      {
        onSessionEnded: async (c) => {
          hookRuns++;
          await c.login();
        },
      },
    );
    const first = await client.login();
    expect(hookRuns).toBe(0);
    // The session ends behind the SDK's back (logged out on another device, say).
    await client.request('POST', '/auth/logout');
    const answers = await Promise.all(Array.from({ length: 5 }, () => client.me()));
    expect(answers.every((me) => me.id === first.user.id)).toBe(true);
    expect(hookRuns).toBe(1);
    expect(calls(wx, 'GET', '/users/me').filter((e) => e.status === 401)).toHaveLength(5);
    expect(calls(wx, 'POST', '/auth/login')).toHaveLength(2);
  });

  it('a re-login hook that does not sign in leaves the 40102 ApiError and no stored pair', async () => {
    const { client, wx } = clientOf({}, { onSessionEnded: () => undefined });
    await client.login();
    await client.request('POST', '/auth/logout');
    const err = (await client.me().catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 401, code: Codes.SESSION_ENDED });
    expect(wx.storage.has(STORAGE_KEY)).toBe(false);
    expect(client.signedIn).toBe(false);
  });

  it('refusals are ApiErrors with the envelope code, status, message and requestId', async () => {
    const productId = await newProduct(2);
    const { client } = clientOf();
    const noStock = (await client
      .placeOrder({ items: [{ productId, quantity: 3 }] })
      .catch((e: unknown) => e)) as ApiError;
    expect(noStock).toBeInstanceOf(ApiError);
    expect(noStock).toMatchObject({ status: 409, code: Codes.CONFLICT });
    expect(noStock.message.length).toBeGreaterThan(0);
    expect(noStock.requestId).toMatch(/^[A-Za-z0-9._-]+$/);
    const invalid = (await client.placeOrder({ items: [] }).catch((e: unknown) => e)) as ApiError;
    expect(invalid).toMatchObject({ status: 400, code: Codes.VALIDATION_FAILED });
    expect(invalid.fieldErrors.map((f) => f.field)).toContain('items');
    const missing = (await client.product(2_000_000_000).catch((e: unknown) => e)) as ApiError;
    expect(missing).toMatchObject({ status: 404, code: 40400 });
  });

  it('approveConsoleLogin signs a browser in to the staff console as this staff member', async () => {
    const ticketed = await backend().app.http.post('/console/login-tickets');
    expect(ticketed.status).toBe(201);
    const ticket = ticketed.body.data.ticket as string;
    const binder = (ticketed.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
    const { client, wx } = clientOf();
    const me = await client.me();
    const refused = (await client.approveConsoleLogin(ticket).catch((e: unknown) => e)) as ApiError;
    expect(refused).toMatchObject({ status: 403, code: 40300 });
    const granted = await backend()
      .app.http.put(`/api/v1/admin/users/${me.id}/role`)
      .set('Authorization', `Bearer ${backend().adminToken}`)
      .send({ role: 'support' });
    expect(granted.status).toBe(200);
    await client.approveConsoleLogin(ticket);
    // Outside /api/v1, with the stored bearer token.
    const approvals = wx.exchanges.filter(
      (e) => e.method === 'POST' && e.path === `/console/login-tickets/${ticket}/approve`,
    );
    expect(approvals).toHaveLength(2);
    const polled = await backend()
      .app.http.get(`/console/login-tickets/${ticket}`)
      .set('Cookie', binder);
    expect(polled.body.data).toEqual({ status: 'approved' });
    const again = (await client.approveConsoleLogin(ticket).catch((e: unknown) => e)) as ApiError;
    expect(again).toMatchObject({ status: 409, code: Codes.CONFLICT });
  });

  it('subscribe reports only the accepted templates to the backend', async () => {
    const { client, wx } = clientOf({
      subscribe: (ids) =>
        Object.fromEntries(ids.map((id) => [id, id === TEMPLATE ? 'accept' : 'reject'])),
    });
    const result = await client.subscribe([TEMPLATE, 'tpl-declined']);
    expect(result.accepted).toEqual([TEMPLATE]);
    expect(result.subscriptions?.items).toEqual([
      { templateId: TEMPLATE, topic: 'order_paid', credits: 1 },
    ]);
    const none = await client.subscribe(['tpl-declined']);
    expect(none).toEqual({ accepted: [], subscriptions: null });
    expect(calls(wx, 'POST', '/users/me/subscriptions')).toHaveLength(1);
  });

  if (!flashSales) return;
  it('buys in a flash sale: admission, the ticket polled to placed, the order at the sale price', async () => {
    const productId = await newProduct(20, 3000);
    const sale = await admin('post', '/admin/flash-sales', {
      productId,
      priceCents: 1500,
      stock: 5,
      perUserLimit: 1,
      startsAt: new Date(Date.now() - 1000).toISOString(),
      endsAt: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(sale.status).toBe(201);
    const saleId = sale.body.data.id as number;
    const { client, wx } = clientOf();
    const order = await client.buyFlashSale(saleId, 1, { intervalMs: 50, timeoutMs: 15_000 });
    expect(order).toMatchObject({ status: 'pending', totalCents: 1500 });
    const polls = wx.exchanges.filter((e) => e.path.startsWith('/api/v1/flash-sales/tickets/'));
    expect(polls.length).toBeGreaterThanOrEqual(1);
    const limit = (await client.buyFlashSale(saleId, 1).catch((e: unknown) => e)) as ApiError;
    expect(limit).toMatchObject({ status: 409, code: Codes.FLASH_LIMIT_REACHED });
  });
}

describe('SDK on MariaDB and Redis (fake WeChat)', () => {
  const stack = useStack({
    env: { LOG_LEVEL: 'warn', ADMIN_OPENIDS: 'sdk-admin', ...TEMPLATE_ENV },
  });
  let backend: Backend;
  beforeAll(async () => {
    const origin = await listen(stack.app);
    const adminToken = (await loginAs(stack.app, stack.wx, { admin: true })).accessToken;
    stack.wx.pages.add('pages/console-login/index');
    backend = {
      app: stack.app,
      origin,
      adminToken,
      codeFor: (openid) => stack.wx.issueCode({ openid }).code,
    };
  });
  sdkScenarios(() => backend, { flashSales: true });
});

describe('SDK on the embedded quick start (sandbox WeChat)', () => {
  let app: TestApp;
  let backend: Backend;
  beforeAll(async () => {
    app = await startEmbeddedTestApp({
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      SHUTDOWN_DRAIN_MS: '0',
      THROTTLE_DEFAULT_LIMIT: '100000',
      THROTTLE_LOGIN_LIMIT: '100000',
      THROTTLE_ORDERS_LIMIT: '100000',
      ADMIN_OPENIDS: SandboxWechatClient.openidFor('sdk-admin'),
      ...TEMPLATE_ENV,
    });
    const origin = await listen(app);
    const login = await app.http.post('/api/v1/auth/login').send({ code: 'sdk-admin' });
    backend = {
      app,
      origin,
      adminToken: login.body.data.accessToken as string,
      // The sandbox WeChat derives the openid from the code.
      codeFor: (name) => name,
    };
  });
  afterAll(async () => {
    await app?.close();
  });
  sdkScenarios(() => backend, { flashSales: false });
});
