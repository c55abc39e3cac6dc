import { Redis } from 'ioredis';
import { startTestApp, type TestApp } from './helpers/app.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, uniqueSuffix } from './helpers/env.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';
import { OwnRedisServer } from './helpers/redis-server.js';

const ADMIN_OPENID = 'chaos-admin';
const COMMAND_TIMEOUT_MS = 1500;
const bearer = (u: LoggedIn) => ({ Authorization: `Bearer ${u.accessToken}` });

// The app runs on a Redis of this file's own, frozen and restarted mid-test;
// the shared Redis on 6379 is never touched.
describe('Redis frozen or restarted empty', () => {
  const prefix = `t${uniqueSuffix()}:`;
  let db: TestDatabase;
  let server: OwnRedisServer;
  let wx: FakeWechat;
  let t: TestApp;
  let admin: LoggedIn;
  let productId: number;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await OwnRedisServer.start();
    wx = await startFakeWechat();
    t = await startTestApp({
      ...baseEnv(db.url, prefix),
      WECHAT_API_BASE_URL: wx.url,
      REDIS_URL: server.url,
      REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
      ADMIN_OPENIDS: ADMIN_OPENID,
    });
    admin = await loginAs(t, wx, { admin: true });
    const created = await t.http
      .post('/api/v1/admin/products')
      .set(bearer(admin))
      .send({ name: 'Jasmine', description: '', priceCents: 300, stock: 3 });
    productId = created.body.data.id as number;
  });
  afterAll(async () => {
    server?.thaw();
    await t?.close();
    await wx?.close();
    await server?.down().catch(() => undefined);
    await db?.drop();
  });

  it('after the first timeout, the throttle, sessions and cache use their fallbacks at once; back on Redis when it answers', async () => {
    const user = await loginAs(t, wx);
    expect((await t.http.get(`/api/v1/products/${productId}`)).status).toBe(200);
    expect((await t.http.get('/api/v1/users/me').set(bearer(user))).status).toBe(200);

    server.freeze();
    try {
      // This one waits for the command timeout, then falls back.
      expect((await t.http.get(`/api/v1/products/${productId}`)).status).toBe(200);
      // The rest do not wait on Redis at all: ten of them, anonymous and signed
      // in, finish before a single command timeout would have passed.
      const started = Date.now();
      for (let i = 0; i < 5; i++) {
        expect((await t.http.get(`/api/v1/products/${productId}`)).status).toBe(200);
        expect((await t.http.get('/api/v1/users/me').set(bearer(user))).status).toBe(200);
      }
      expect(Date.now() - started).toBeLessThan(COMMAND_TIMEOUT_MS);
    } finally {
      server.thaw();
    }

    // The background probe reopens the gate: hits are counted in Redis again.
    const probe = new Redis(server.url, { keyPrefix: prefix });
    try {
      const key = `thr:{default:u:${user.user.id}}:h`;
      const before = Number(await probe.get(key));
      let after = before;
      for (let i = 0; i < 50 && after <= before; i++) {
        await t.http.get('/api/v1/users/me').set(bearer(user));
        after = Number(await probe.get(key));
        if (after <= before) await new Promise((r) => setTimeout(r, 100));
      }
      expect(after).toBeGreaterThan(before);
    } finally {
      probe.disconnect();
    }
    expect(t.logs.some((l) => l.message === 'unexpected error')).toBe(false);
  }, 30_000);

  it('Redis restarted empty: a session whose data is gone is 40102 "session expired, sign in again"; a revoked one stays "session revoked"', async () => {
    const lost = await loginAs(t, wx);
    const loggedOut = await loginAs(t, wx);
    expect((await t.http.post('/api/v1/auth/logout').set(bearer(loggedOut))).status).toBe(200);
    const revoked = await t.http.get('/api/v1/users/me').set(bearer(loggedOut));
    expect(revoked.body).toMatchObject({ code: 40102, message: 'session revoked' });

    await server.down();
    await server.up();
    const redis = t.redis()!;
    for (let i = 0; i < 100 && redis.status !== 'ready'; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const res = await t.http.get('/api/v1/users/me').set(bearer(lost));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 40102, message: 'session expired, sign in again' });
  }, 30_000);
});
