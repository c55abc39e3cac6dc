import { Controller, Get, Module, Post } from '@nestjs/common';
import { Redis } from 'ioredis';
import { ThrottleAs } from '../src/infra/throttle/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, testRedisPrefix } from './helpers/env.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { loginAs } from './helpers/auth.js';
import { startFakeWechat } from './helpers/fake-wechat.js';
import { OwnRedisServer } from './helpers/redis-server.js';

@Controller('probe')
class ProbeController {
  @Get('ping')
  ping() {
    return { pong: true };
  }

  @Post('login')
  @ThrottleAs('login')
  login() {
    return { ok: true };
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

const probe = { imports: [ProbeModule] };

describe('cluster-wide throttling', () => {
  let db: TestDatabase;
  const apps: TestApp[] = [];
  const start = async (env: Record<string, string>) => {
    // The THROTTLE_* env values only seed a fresh database: each app here
    // starts its own limits on the file's database.
    await db.dataSource.query('DELETE FROM runtime_settings');
    const t = await startTestApp(
      { ...baseEnv(db.url, env.REDIS_KEY_PREFIX ?? testRedisPrefix()), ...env },
      probe,
    );
    apps.push(t);
    return t;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(apps.map((t) => t.close()));
    await db?.drop();
  });

  it('admits exactly N of a 3N concurrent burst spread over two replicas, the rest 429 with headers', async () => {
    const prefix = testRedisPrefix();
    const env = {
      REDIS_KEY_PREFIX: prefix,
      THROTTLE_DEFAULT_LIMIT: '10',
      THROTTLE_DEFAULT_TTL: '60',
    };
    const [a, b] = [await start(env), await start(env)];
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).http.get('/api/v1/probe/ping')),
    );
    const ok = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status === 429);
    expect(ok).toHaveLength(10);
    expect(refused).toHaveLength(20);
    for (const r of refused) {
      expect(r.body).toMatchObject({ code: 42900, data: null });
      const retryAfter = Number(r.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(r.headers['x-ratelimit-limit']).toBe('10');
      expect(r.headers['x-ratelimit-remaining']).toBe('0');
    }
    const remaining = ok
      .map((r) => Number(r.headers['x-ratelimit-remaining']))
      .sort((x, y) => x - y);
    expect(remaining).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const r of ok) expect(Number(r.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
  });

  it('while blocked past the end of its window, X-RateLimit-Reset says what Retry-After says', async () => {
    const t = await start({ THROTTLE_DEFAULT_LIMIT: '1', THROTTLE_DEFAULT_TTL: '2' });
    expect((await t.http.get('/api/v1/probe/ping')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    // Over the limit near the end of the window: blocked for a full TTL from now.
    expect((await t.http.get('/api/v1/probe/ping')).status).toBe(429);
    await new Promise((r) => setTimeout(r, 700));
    const res = await t.http.get('/api/v1/probe/ping');
    expect(res.status).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(res.headers['x-ratelimit-reset']).toBe(res.headers['retry-after']);
  });

  it('counts signed-in users by user id, not by their shared IP', async () => {
    const wx = await startFakeWechat();
    try {
      const t = await start({ THROTTLE_DEFAULT_LIMIT: '3', WECHAT_API_BASE_URL: wx.url });
      const [alice, bob] = [await loginAs(t, wx), await loginAs(t, wx)];
      const me = (token: string) =>
        t.http.get('/api/v1/users/me').set('Authorization', `Bearer ${token}`);
      const codes = [];
      for (let i = 0; i < 4; i++) codes.push((await me(alice.accessToken)).status);
      expect(codes).toEqual([200, 200, 200, 429]);
      expect((await me(bob.accessToken)).status).toBe(200);
      // An invalid token is counted against the IP, which has its own bucket.
      expect((await me('not-a-token')).status).toBe(401);
    } finally {
      await wx.close();
    }
  });

  it('never throttles health probes', async () => {
    const t = await start({ THROTTLE_DEFAULT_LIMIT: '1' });
    await t.http.get('/api/v1/probe/ping');
    expect((await t.http.get('/api/v1/probe/ping')).status).toBe(429);
    expect((await t.http.get('/health/live')).status).toBe(200);
    expect((await t.http.get('/health/ready')).status).toBe(200);
  });

  it('counts a named route against its own stricter limit only', async () => {
    const t = await start({ THROTTLE_DEFAULT_LIMIT: '100', THROTTLE_LOGIN_LIMIT: '2' });
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await t.http.post('/api/v1/probe/login')).status);
    expect(codes).toEqual([201, 201, 429]);
    const ping = await t.http.get('/api/v1/probe/ping');
    expect(ping.status).toBe(200);
    expect(ping.headers['x-ratelimit-limit']).toBe('100');
  });

  it('ignores X-Forwarded-For from an untrusted peer: spoofing does not buy a new bucket', async () => {
    const t = await start({ THROTTLE_DEFAULT_LIMIT: '2' });
    const codes = [];
    for (let i = 0; i < 3; i++) {
      codes.push(
        (await t.http.get('/api/v1/probe/ping').set('X-Forwarded-For', `203.0.113.${i}`)).status,
      );
    }
    expect(codes).toEqual([200, 200, 429]);
  });

  it('honours X-Forwarded-For from a trusted proxy: each client has its own bucket', async () => {
    const t = await start({ THROTTLE_DEFAULT_LIMIT: '2', TRUST_PROXY: '127.0.0.1,::1' });
    const codes = [];
    for (let i = 0; i < 3; i++) {
      codes.push(
        (await t.http.get('/api/v1/probe/ping').set('X-Forwarded-For', `203.0.113.${i}`)).status,
      );
    }
    expect(codes).toEqual([200, 200, 200]);
    const again = [];
    for (let i = 0; i < 2; i++) {
      again.push(
        (await t.http.get('/api/v1/probe/ping').set('X-Forwarded-For', '203.0.113.0')).status,
      );
    }
    expect(again).toEqual([200, 429]);
  });

  it('keeps answering when Redis stops (local limits still apply) and goes back to Redis when it returns', async () => {
    const redis = await OwnRedisServer.start();
    try {
      const prefix = testRedisPrefix();
      const t = await start({
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: prefix,
        REDIS_COMMAND_TIMEOUT_MS: '200',
        THROTTLE_DEFAULT_LIMIT: '5',
      });
      expect((await t.http.get('/api/v1/probe/ping')).status).toBe(200);

      await redis.down();
      const during = [];
      for (let i = 0; i < 6; i++) during.push((await t.http.get('/api/v1/probe/ping')).status);
      expect(during).toEqual([200, 200, 200, 200, 200, 429]);
      expect(
        t.logs.some((l) => String(l.message).includes('fall back to per-replica memory')),
      ).toBe(true);

      await redis.up();
      const check = new Redis(redis.url);
      try {
        // ioredis reconnects on its own; counting moves back to Redis.
        await expect
          .poll(
            async () => {
              await t.http.get('/api/v1/probe/ping');
              return (await check.keys(`${prefix}thr:*`)).length;
            },
            { timeout: 10_000, interval: 200 },
          )
          .toBeGreaterThan(0);
        expect(t.logs.some((l) => String(l.message).includes('Redis is back'))).toBe(true);
      } finally {
        check.disconnect();
      }
    } finally {
      await redis.down();
    }
  });
});
