import type { Test } from 'supertest';
import { TwoTierCache } from '../src/infra/cache/index.js';
import { REDIS } from '../src/infra/redis/index.js';
import type { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, testRedisPrefix } from './helpers/env.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { loginAs } from './helpers/auth.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';
import { OwnRedisServer } from './helpers/redis-server.js';

let adminToken = '';
/** Every admin call goes through here: it carries the admin's access token. */
const admin = (req: Test): Test => req.set('Authorization', `Bearer ${adminToken}`);

// The app runs on a Redis of this file's own, which is stopped mid-test; the
// shared Redis on 6379 is never touched.
describe('Catalog while Redis is down', () => {
  let db: TestDatabase;
  let server: OwnRedisServer;
  let t: TestApp;
  let wx: FakeWechat;
  let ids: number[];

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await OwnRedisServer.start();
    wx = await startFakeWechat();
    t = await startTestApp({
      WECHAT_API_BASE_URL: wx.url,
      ADMIN_OPENIDS: 'catalog-admin',
      ...baseEnv(db.url, testRedisPrefix()),
      REDIS_URL: server.url,
      REDIS_COMMAND_TIMEOUT_MS: '300',
      CACHE_L1_MAX_TTL_MS: '200',
      LOG_LEVEL: 'warn',
    });
    adminToken = (await loginAs(t, wx, { admin: true })).accessToken;
    ids = [];
    for (const name of ['Cached', 'Uncached', 'Edited']) {
      const res = await admin(
        t.http.post('/api/v1/admin/products').send({ name, priceCents: 100, stock: 5 }),
      );
      ids.push(res.body.data.id as number);
    }
  });
  afterAll(async () => {
    await t?.close();
    await wx?.close();
    await server?.down().catch(() => undefined);
    await db?.drop();
  });

  it('keeps answering 200 from L1 and the database, never 500, and recovers when Redis returns', async () => {
    const [cached, uncached, edited] = ids;
    expect((await t.http.get(`/api/v1/products/${cached}`)).status).toBe(200);
    expect((await t.http.get(`/api/v1/products/${edited}`)).status).toBe(200);

    await server.down();
    // Past the L1 max TTL, so the cache has to try (and fail) its L2.
    await new Promise((r) => setTimeout(r, 250));
    for (let i = 0; i < 20; i++) {
      const res = await t.http.get(`/api/v1/products/${cached}`);
      expect(res.status).toBe(200);
      expect(res.body.data.name).toBe('Cached');
    }
    const fromDb = await t.http.get(`/api/v1/products/${uncached}`);
    expect(fromDb.status).toBe(200);
    expect(fromDb.body.data.name).toBe('Uncached');
    expect((await t.http.get('/api/v1/products')).status).toBe(200);
    expect((await t.http.get('/api/v1/products/999999')).status).toBe(404);

    // A write during the outage: the database takes it and this replica serves it.
    const patched = await admin(
      t.http.patch(`/api/v1/admin/products/${edited}`).send({ priceCents: 250 }),
    );
    expect(patched.status).toBe(200);
    expect((await t.http.get(`/api/v1/products/${edited}`)).body.data.priceCents).toBe(250);
    expect(t.app.get(TwoTierCache).stats.l2Errors).toBeGreaterThan(0);

    await server.up();
    const redis = t.app.get<Redis>(REDIS);
    const deadline = Date.now() + 10_000;
    let stored: string | null = null;
    // Recovery needs no restart: reads start filling L2 again by themselves.
    while (stored === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      expect((await t.http.get(`/api/v1/products/${uncached}`)).status).toBe(200);
      stored = await redis.get(`c:product:${uncached}`).catch(() => null);
    }
    expect(stored).toContain('"Uncached"');
    expect((await t.http.get(`/api/v1/products/${edited}`)).body.data.priceCents).toBe(250);
  });
});
