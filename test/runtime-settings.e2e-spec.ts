import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/index.js';
import { RuntimeSettings, type Settings } from '../src/infra/settings/index.js';
import { seedSettings } from '../src/infra/settings/settings.model.js';
import { SettingsStore } from '../src/infra/settings/settings.store.js';
import { Transactions } from '../src/infra/transactions/index.js';
import { SandboxWechatClient } from '../src/modules/wechat/index.js';
import { startEmbeddedTestApp, startTestApp, type TestApp } from './helpers/app.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv } from './helpers/env.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';
import { OwnRedisServer } from './helpers/redis-server.js';
import { useStack } from './helpers/stack.js';
import { until } from './helpers/until.js';

const API = '/api/v1';
const ADMIN_OPENID = 'settings-admin';
const MISSING = 2_000_000_000;

type Patch = Record<string, unknown>;
const settingsOf = (t: TestApp) => t.app.get(RuntimeSettings).current();
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const newKey = () => `k-${randomBytes(8).toString('hex')}`;

describe('Runtime settings on two replicas sharing MariaDB and Redis', () => {
  const stack = useStack({
    apps: 2,
    env: { ADMIN_OPENIDS: ADMIN_OPENID, LOG_LEVEL: 'warn' },
  });
  let admin: LoggedIn;
  let user: LoggedIn;
  const seed = () => settingsOf(stack.app);

  beforeAll(async () => {
    admin = await loginAs(stack.app, stack.wx, { admin: true });
    user = await loginAs(stack.app, stack.wx);
  });

  const put = (body: unknown, t: TestApp = stack.app) =>
    t.http
      .put(`${API}/admin/settings`)
      .set(bearer(admin.accessToken))
      .send(body as object);

  /** PUTs on the first replica; resolves once the second one applies the same settings. */
  async function change(patch: Patch): Promise<Settings> {
    const res = await put(patch);
    expect(res.status).toBe(200);
    const wanted = JSON.stringify(res.body.data);
    await until(async () => JSON.stringify(settingsOf(stack.apps[1])) === wanted, 1000);
    return res.body.data as Settings;
  }

  afterEach(async () => {
    // Each test starts with every feature on and generous limits.
    await change({
      switches: { orders: true, flashSales: true, payments: true, readOnly: false },
      throttle: { default: { limit: 100000, ttl: 60 } },
    });
  });

  it('starts a fresh database at the env values with every feature on', async () => {
    const res = await stack.app.http.get(`${API}/admin/settings`).set(bearer(admin.accessToken));
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      throttle: {
        default: { limit: 100000, ttl: 60 },
        login: { limit: 100000, ttl: 60 },
        orders: { limit: 100000, ttl: 60 },
        // THROTTLE_FLASH_* unset: the orders values.
        flash: { limit: 100000, ttl: 60 },
      },
      switches: { orders: true, flashSales: true, payments: true, readOnly: false },
    });
  });

  it('is for admins only', async () => {
    const asUser = await stack.app.http.get(`${API}/admin/settings`).set(bearer(user.accessToken));
    expect(asUser.status).toBe(403);
    const putAsUser = await stack.app.http
      .put(`${API}/admin/settings`)
      .set(bearer(user.accessToken))
      .send({ switches: { orders: false } });
    expect(putAsUser.status).toBe(403);
    expect(settingsOf(stack.app).switches.orders).toBe(true);
  });

  it('applies a PUT on one replica on the other within 1 s, over the bus', async () => {
    const started = Date.now();
    const res = await put({ throttle: { login: { limit: 77 } } });
    expect(res.status).toBe(200);
    expect(res.body.data.throttle.login).toEqual({ limit: 77, ttl: 60 });
    // The re-read runs every 5 s here: only the bus can make this in time.
    await until(async () => settingsOf(stack.apps[1]).throttle.login.limit === 77, 1000);
    expect(Date.now() - started).toBeLessThan(1000);
    const other = await stack.apps[1].http
      .get(`${API}/admin/settings`)
      .set(bearer(admin.accessToken));
    expect(other.body.data.throttle.login).toEqual({ limit: 77, ttl: 60 });
    await change({ throttle: { login: { limit: 100000 } } });
  });

  it.each([
    ['orders', 'POST /orders'],
    ['flashSales', 'POST /flash-sales/:id/orders'],
    ['payments', 'POST /orders/:id/payment and /payment/confirm'],
  ])('switching %s off answers 503/50301 on %s only, on every replica', async (name) => {
    const routes = {
      orders: (t: TestApp) =>
        t.http
          .post(`${API}/orders`)
          .set(bearer(user.accessToken))
          .set('Idempotency-Key', newKey())
          .send({ items: [{ productId: MISSING, quantity: 1 }] }),
      flashSales: (t: TestApp) =>
        t.http
          .post(`${API}/flash-sales/${MISSING}/orders`)
          .set(bearer(user.accessToken))
          .set('Idempotency-Key', newKey())
          .send({ quantity: 1 }),
      payments: (t: TestApp) =>
        t.http.post(`${API}/orders/${MISSING}/payment`).set(bearer(user.accessToken)),
      confirm: (t: TestApp) =>
        t.http.post(`${API}/orders/${MISSING}/payment/confirm`).set(bearer(user.accessToken)),
    };
    const gated = name === 'payments' ? ['payments', 'confirm'] : [name];
    await change({ switches: { [name]: false } });
    for (const t of stack.apps) {
      for (const [route, call] of Object.entries(routes)) {
        const res = await call(t);
        if (gated.includes(route)) {
          expect(res.status, route).toBe(503);
          expect(res.body).toMatchObject({ code: 50301, data: null });
          expect(res.body.message).toContain('switched off');
        } else {
          // Past the switch: the missing order / sale / product speaks.
          expect(res.status, route).not.toBe(503);
          expect(res.status, route).toBeGreaterThanOrEqual(400);
        }
      }
    }
    // Reads of the feature stay open.
    const list = await stack.apps[1].http.get(`${API}/orders`).set(bearer(user.accessToken));
    expect(list.status).toBe(200);
  });

  it('readOnly refuses every write but logins, refreshes, WeChat Pay notifications and PUT settings', async () => {
    const other = await loginAs(stack.app, stack.wx);
    await change({ switches: { readOnly: true } });
    const b = stack.apps[1];
    const refused = [
      await b.http.put(`${API}/users/me`).set(bearer(user.accessToken)).send({ nickname: 'x' }),
      await b.http.patch(`${API}/users/me`).set(bearer(user.accessToken)).send({ nickname: 'x' }),
      await b.http
        .post(`${API}/orders`)
        .set(bearer(user.accessToken))
        .set('Idempotency-Key', newKey())
        .send({ items: [{ productId: MISSING, quantity: 1 }] }),
      await b.http.post(`${API}/auth/logout`).set(bearer(user.accessToken)),
      await b.http.post(`${API}/admin/products`).set(bearer(admin.accessToken)).send({}),
    ];
    for (const res of refused) {
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 50301, data: null });
    }
    // Reads go on.
    expect((await b.http.get(`${API}/users/me`).set(bearer(user.accessToken))).status).toBe(200);
    // Signing in and refreshing go on (sessions are kept).
    const fresh = await loginAs(b, stack.wx);
    expect(fresh.accessToken).toBeTruthy();
    const refreshed = await b.http
      .post(`${API}/auth/refresh`)
      .send({ refreshToken: other.refreshToken });
    expect(refreshed.status).toBe(200);
    // WeChat Pay's notifications are heard (this one is refused for its missing signature, not by the switch).
    const notify = await b.http
      .post(`${API}/payments/wechat/notify`)
      .set('Content-Type', 'application/json')
      .send('{}');
    expect(notify.status).toBe(401);
    expect(notify.body.code).toBe('FAIL');
    // And the operator can switch it back.
    const back = await put({ switches: { readOnly: false } }, b);
    expect(back.status).toBe(200);
    expect(back.body.data.switches.readOnly).toBe(false);
  });

  it('a new throttle limit applies to the next request on every replica', async () => {
    const probe = await loginAs(stack.app, stack.wx);
    await change({ throttle: { default: { limit: 3, ttl: 60 } } });
    const codes: number[] = [];
    for (const t of [stack.apps[0], stack.apps[1], stack.apps[0], stack.apps[1]]) {
      const res = await t.http.get(`${API}/users/me`).set(bearer(probe.accessToken));
      codes.push(res.status);
      if (res.status === 200) expect(res.headers['x-ratelimit-limit']).toBe('3');
    }
    expect(codes).toEqual([200, 200, 200, 429]);
    // The settings routes are never throttled: the operator can always undo it.
    const undo = await put({ throttle: { default: { limit: 100000 } } });
    expect(undo.status).toBe(200);
  });

  it.each([
    ['a limit of 0', { throttle: { default: { limit: 0 } } }, 'throttle.default.limit'],
    ['a ttl of 0', { throttle: { orders: { ttl: 0 } } }, 'throttle.orders.ttl'],
    ['a fractional limit', { throttle: { login: { limit: 1.5 } } }, 'throttle.login.limit'],
    ['a limit as a string', { throttle: { flash: { limit: '5' } } }, 'throttle.flash.limit'],
    ['an unknown throttle name', { throttle: { search: { limit: 5 } } }, 'throttle.search'],
    ['an unknown switch', { switches: { checkout: false } }, 'switches.checkout'],
    ['a switch as a string', { switches: { orders: 'off' } }, 'switches.orders'],
    ['a switch of null', { switches: { payments: null } }, 'switches.payments'],
    ['throttle as a number', { throttle: 5 }, 'throttle'],
    ['switches as an array', { switches: [true] }, 'switches'],
    ['an unknown part', { limits: {} }, 'limits'],
  ])('refuses %s with 400 and changes nothing', async (_label, body, field) => {
    const before = JSON.stringify(seed());
    const audit = await stack.app.http
      .get(`${API}/admin/settings/audit`)
      .set(bearer(admin.accessToken));
    const res = await put(body);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(40000);
    const fields = (res.body.data.errors as { field: string }[]).map((e) => e.field);
    expect(fields.some((f) => f.startsWith(field))).toBe(true);
    expect(JSON.stringify(seed())).toBe(before);
    const after = await stack.app.http
      .get(`${API}/admin/settings/audit`)
      .set(bearer(admin.accessToken));
    expect(after.body.data.items[0]?.id).toBe(audit.body.data.items[0]?.id);
  });

  it('records who changed what, before and after, newest first and paginated', async () => {
    const before = seed();
    await change({ switches: { flashSales: false }, throttle: { flash: { limit: 5, ttl: 10 } } });
    const page = await stack.apps[1].http
      .get(`${API}/admin/settings/audit?limit=1`)
      .set(bearer(admin.accessToken));
    expect(page.status).toBe(200);
    const [latest] = page.body.data.items as {
      actorId: number;
      before: Settings;
      after: Settings;
      createdAt: string;
      version: number;
    }[];
    expect(latest.actorId).toBe(admin.user.id);
    expect(latest.before).toEqual(before);
    expect(latest.after).toEqual({
      throttle: { ...before.throttle, flash: { limit: 5, ttl: 10 } },
      switches: { ...before.switches, flashSales: false },
    });
    expect(Math.abs(Date.parse(latest.createdAt) - Date.now())).toBeLessThan(60_000);
    expect(page.body.data.nextCursor).toEqual(expect.any(String));
    const next = await stack.app.http
      .get(`${API}/admin/settings/audit?limit=1&cursor=${page.body.data.nextCursor}`)
      .set(bearer(admin.accessToken));
    expect(next.body.data.items[0].version).toBe(latest.version - 1);
    expect(next.body.data.items[0].after).toEqual(latest.before);
    // A PUT that changes nothing is no change.
    const same = await put({ switches: { flashSales: false } });
    expect(same.status).toBe(200);
    const unchanged = await stack.app.http
      .get(`${API}/admin/settings/audit?limit=1`)
      .set(bearer(admin.accessToken));
    expect(unchanged.body.data.items[0].version).toBe(latest.version);
  });
});

describe('Runtime settings across a lost message, a Redis flush and a restart', () => {
  let db: TestDatabase;
  let redis: OwnRedisServer;
  let wx: FakeWechat;
  const apps: TestApp[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const t = await startTestApp({
      ...baseEnv(db.url, 'settings:'),
      REDIS_URL: redis.url,
      WECHAT_API_BASE_URL: wx.url,
      ADMIN_OPENIDS: ADMIN_OPENID,
      LOG_LEVEL: 'warn',
      SETTINGS_REFRESH_MS: '200',
      ...env,
    });
    apps.push(t);
    return t;
  };

  beforeAll(async () => {
    [db, redis, wx] = await Promise.all([
      createTestDatabase(),
      OwnRedisServer.start(),
      startFakeWechat(),
    ]);
  });
  afterAll(async () => {
    for (const t of apps) await t.close().catch(() => undefined);
    await wx?.close();
    await redis?.down();
    await db?.drop();
  });

  let first: TestApp;
  let admin: LoggedIn;

  it('heals a lost bus message with the periodic re-read', async () => {
    first = await start();
    admin = await loginAs(first, wx, { admin: true });
    const [{ version }] = (await db.dataSource.query(
      'SELECT version FROM runtime_settings WHERE id = 1',
    )) as { version: number }[];
    const lost: Settings = {
      ...settingsOf(first),
      switches: { ...settingsOf(first).switches, orders: false },
    };
    // Written as another replica would, with the message that should follow it lost.
    await db.dataSource.query('UPDATE runtime_settings SET version = ?, value = ? WHERE id = 1', [
      version + 1,
      JSON.stringify(lost),
    ]);
    await until(async () => settingsOf(first).switches.orders === false, 2000);
    const user = await loginAs(first, wx);
    const res = await first.http
      .post(`${API}/orders`)
      .set(bearer(user.accessToken))
      .set('Idempotency-Key', newKey())
      .send({ items: [{ productId: MISSING, quantity: 1 }] });
    expect(res.body.code).toBe(50301);
  });

  it('keeps what the operator set, not the env, after a Redis FLUSHALL and a restart', async () => {
    const res = await first.http
      .put(`${API}/admin/settings`)
      .set(bearer(admin.accessToken))
      .send({ throttle: { orders: { limit: 42, ttl: 30 } }, switches: { payments: false } });
    expect(res.status).toBe(200);
    const wanted = res.body.data as Settings;

    const client = new Redis(redis.url);
    try {
      await client.flushall();
    } finally {
      client.disconnect();
    }
    // Re-reads after the flush still find them (the database is their home).
    await new Promise((r) => setTimeout(r, 500));
    expect(settingsOf(first)).toEqual(wanted);

    await first.close();
    apps.splice(apps.indexOf(first), 1);
    // Other env values: they only seed a fresh database.
    const second = await start({ THROTTLE_ORDERS_LIMIT: '7', THROTTLE_ORDERS_TTL: '5' });
    expect(settingsOf(second)).toEqual(wanted);
    const again = await loginAs(second, wx, { admin: true });
    const got = await second.http.get(`${API}/admin/settings`).set(bearer(again.accessToken));
    expect(got.body.data).toEqual(wanted);
  });
  it('seeds once when replicas boot together, and keeps both of two simultaneous changes', async () => {
    await db.dataSource.query('DELETE FROM runtime_settings');
    const config = loadConfig({ ...baseEnv(db.url, 'unused:'), THROTTLE_LOGIN_LIMIT: '31' });
    const stores = [0, 1, 2].map(() => new SettingsStore(new Transactions(db.dataSource, config)));
    const seed = seedSettings(config);
    const seeded = await Promise.all(stores.map((s) => s.loadOrSeed(seed)));
    expect(seeded.map((v) => v.version)).toEqual([1, 1, 1]);
    expect(seeded[0].settings.throttle.login.limit).toBe(31);

    const [one, two] = await Promise.all([
      stores[0].change(101, { switches: { orders: false } }, seed),
      stores[1].change(102, { throttle: { login: { limit: 9 } } }, seed),
    ]);
    expect([one.version, two.version].sort((x, y) => x - y)).toEqual([2, 3]);
    const final = await stores[2].load(seed);
    expect(final?.version).toBe(3);
    expect(final?.settings.switches.orders).toBe(false);
    expect(final?.settings.throttle.login.limit).toBe(9);
    const audit = await stores[2].changes(undefined, 10, seed);
    const actors = audit.items.slice(0, 2).map((c) => c.actorId);
    expect(actors.sort((x, y) => x - y)).toEqual([101, 102]);
  });
});

describe('Runtime settings in the embedded mode (better-sqlite3, in-process bus)', () => {
  let t: TestApp;
  const login = async (code: string) =>
    (await t.http.post(`${API}/auth/login`).send({ code })).body.data.accessToken as string;

  beforeAll(async () => {
    t = await startEmbeddedTestApp({
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      SHUTDOWN_DRAIN_MS: '0',
      ADMIN_OPENIDS: SandboxWechatClient.openidFor('settings-embedded-admin'),
      THROTTLE_LOGIN_LIMIT: '50',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('seeds, changes, audits and enforces the settings without MariaDB or Redis', async () => {
    const admin = await login('settings-embedded-admin');
    const user = await login('settings-embedded-user');
    const got = await t.http.get(`${API}/admin/settings`).set(bearer(admin));
    expect(got.body.data.throttle.login).toEqual({ limit: 50, ttl: 60 });
    const res = await t.http
      .put(`${API}/admin/settings`)
      .set(bearer(admin))
      .send({ switches: { orders: false }, throttle: { login: { limit: 40 } } });
    expect(res.status).toBe(200);
    // Applied on the answer: no bus round trip is needed in one process.
    expect(settingsOf(t).switches.orders).toBe(false);
    const order = await t.http
      .post(`${API}/orders`)
      .set(bearer(user))
      .set('Idempotency-Key', newKey())
      .send({ items: [{ productId: 1, quantity: 1 }] });
    expect(order.status).toBe(503);
    expect(order.body.code).toBe(50301);
    const audit = await t.http.get(`${API}/admin/settings/audit`).set(bearer(admin));
    expect(audit.body.data.items).toHaveLength(1);
    expect(audit.body.data.items[0].after.throttle.login).toEqual({ limit: 40, ttl: 60 });
  });
});
