import { startTestApp, type TestApp } from './helpers/app.js';
import { loginAs } from './helpers/auth.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, testRedisPrefix } from './helpers/env.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';
import { OwnRedisServer } from './helpers/redis-server.js';

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
// SessionLiveness keeps a "live" answer this long before asking Redis again.
const SESSION_LIVE_TTL_MS = 5_000;

// The app runs on a Redis of this file's own, which is stopped mid-test; the
// shared Redis on 6379 is never touched.
describe('authenticated requests while Redis is down', () => {
  let db: TestDatabase;
  let server: OwnRedisServer;
  let wx: FakeWechat;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await OwnRedisServer.start();
    wx = await startFakeWechat();
    t = await startTestApp({
      ...baseEnv(db.url, testRedisPrefix()),
      WECHAT_API_BASE_URL: wx.url,
      REDIS_URL: server.url,
      REDIS_COMMAND_TIMEOUT_MS: '300',
      LOG_LEVEL: 'warn',
    });
  });
  afterAll(async () => {
    await t?.close();
    await wx?.close();
    await server?.down().catch(() => undefined);
    await db?.drop();
  });

  it('admits a session seen live before the outage and answers 503 for one never seen', async () => {
    const seen = await loginAs(t, wx);
    const unseen = await loginAs(t, wx);
    expect((await t.http.get('/api/v1/users/me').set(bearer(seen.accessToken))).status).toBe(200);

    await server.down();
    // Past the in-memory "live" answer: the store must be asked, and cannot answer.
    await new Promise((r) => setTimeout(r, SESSION_LIVE_TTL_MS + 200));

    const me = await t.http.get('/api/v1/users/me').set(bearer(seen.accessToken));
    expect(me.status).toBe(200);
    expect(me.body.data.id).toBe(seen.user.id);
    const refused = await t.http.get('/api/v1/users/me').set(bearer(unseen.accessToken));
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe(50300);
    // Logout needs the store: a clear 503, and the session is not half-ended.
    const logout = await t.http.post('/api/v1/auth/logout').set(bearer(seen.accessToken));
    expect(logout.status).toBe(503);
    expect((await t.http.get('/api/v1/users/me').set(bearer(seen.accessToken))).status).toBe(200);
  });
});
