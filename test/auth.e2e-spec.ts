import { createHash, createSecretKey, randomBytes } from 'node:crypto';
import { Controller, Get, Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import { Roles } from '../src/common/auth/index.js';
import { TwoTierCache } from '../src/infra/cache/index.js';
import { REDIS } from '../src/infra/redis/index.js';
import { WechatClient } from '../src/modules/wechat/index.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { useStack } from './helpers/stack.js';
import { encryptProfile, loginAs } from './helpers/auth.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, testRedisPrefix, uniqueSuffix } from './helpers/env.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';

@Controller('probe')
class AdminProbeController {
  @Get('admin')
  @Roles('admin')
  admin() {
    return { ok: true };
  }
}

@Module({ controllers: [AdminProbeController] })
class AdminProbeModule {}

const ADMIN_OPENID = 'admin-openid-1';
const SECRET = 'test-secret-test-secret-test-secret-0123';
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await check()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 20));
  }
  return Infinity;
}

describe('auth: WeChat login, tokens, sessions (two replicas on one Redis)', () => {
  let db: TestDatabase;
  let wx: FakeWechat;
  let a: TestApp;
  let b: TestApp;
  /** Every secret value seen in this file; none may reach a log line. */
  const secrets = new Set<string>();
  const keep = (...values: string[]) => values.forEach((v) => secrets.add(v));

  beforeAll(async () => {
    db = await createTestDatabase();
    wx = await startFakeWechat();
    const env: Record<string, string> = {
      ...baseEnv(db.url, testRedisPrefix()),
      WECHAT_API_BASE_URL: wx.url,
      WECHAT_TIMEOUT_MS: '500',
      ADMIN_OPENIDS: ADMIN_OPENID,
    };
    keep(env.WECHAT_SECRET, env.JWT_SECRET);
    [a, b] = await Promise.all([
      startTestApp(env, { imports: [AdminProbeModule] }),
      startTestApp(env, { imports: [AdminProbeModule] }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await wx?.close();
    await db?.drop();
  });

  async function login(app: TestApp, body: Record<string, unknown>) {
    const res = await app.http.post('/api/v1/auth/login').send(body);
    if (res.status === 200) keep(res.body.data.accessToken, res.body.data.refreshToken);
    return res;
  }

  describe('POST /auth/login', () => {
    it('creates the user on first login, finds it afterwards, and returns a token pair', async () => {
      const first = wx.issueCode({ unionid: 'union-1' });
      keep(first.sessionKey);
      const res = await login(a, { code: first.code, device: 'iPhone 15' });
      expect(res.status).toBe(200);
      expect(res.body.code).toBe(0);
      const data = res.body.data;
      expect(data).toMatchObject({
        accessTokenExpiresIn: 900,
        refreshTokenExpiresIn: 2592000,
        user: { nickname: '', avatarUrl: null, phone: null, isNew: true },
      });
      expect(typeof data.accessToken).toBe('string');
      expect(typeof data.refreshToken).toBe('string');
      const claims = jwt.decode(data.accessToken) as jwt.JwtPayload;
      expect(claims).toMatchObject({ sub: String(data.user.id), role: 'user' });
      expect(typeof claims.sid).toBe('string');
      expect(claims.exp! - claims.iat!).toBe(900);

      const again = wx.issueCode({ openid: first.openid });
      const res2 = await login(a, { code: again.code });
      expect(res2.body.data.user).toMatchObject({ id: data.user.id, isNew: false });
      const rows = await db.dataSource.query('SELECT openid, unionid FROM users WHERE id = ?', [
        data.user.id,
      ]);
      expect(rows).toEqual([{ openid: first.openid, unionid: 'union-1' }]);
    });

    it('never returns the session_key or openid to the client', async () => {
      const issued = wx.issueCode();
      keep(issued.sessionKey);
      const res = await login(a, { code: issued.code });
      expect(res.text).not.toContain(issued.sessionKey);
      expect(res.text).not.toContain('session_key');
      expect(res.text).not.toContain(issued.openid);
    });

    it('is race-safe: concurrent first logins of one openid make one user row', async () => {
      for (let round = 0; round < 3; round++) {
        const openid = `race-${round}-${uniqueSuffix()}`;
        const codes = [0, 1, 2, 3].map(() => wx.issueCode({ openid }).code);
        const results = await Promise.all(codes.map((code, i) => login(i % 2 ? a : b, { code })));
        expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
        const ids = new Set(results.map((r) => r.body.data.user.id));
        expect(ids.size).toBe(1);
        expect(results.filter((r) => r.body.data.user.isNew)).toHaveLength(1);
        const [{ n }] = await db.dataSource.query(
          'SELECT COUNT(*) AS n FROM users WHERE openid = ?',
          [openid],
        );
        expect(Number(n)).toBe(1);
        // The losers' inserts rolled back with their events: one user.registered.
        const events: { type: string; payload: string }[] = await db.dataSource.query(
          "SELECT type, payload FROM outbox WHERE aggregate_type = 'user' AND aggregate_id = ?",
          [String([...ids][0])],
        );
        expect(events.map((e) => [e.type, JSON.parse(e.payload)])).toEqual([
          ['user.registered', { userId: [...ids][0], openid }],
        ]);
      }
    });

    it('fills nickname and avatar from encryptedData/iv', async () => {
      const issued = wx.issueCode();
      keep(issued.sessionKey);
      const enc = encryptProfile(issued.sessionKey, {
        nickName: '茶客',
        avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/a.png',
        watermark: { appid: wx.appid, timestamp: 1 },
      });
      keep(enc.encryptedData);
      const res = await login(a, { code: issued.code, ...enc });
      expect(res.status).toBe(200);
      expect(res.body.data.user).toMatchObject({
        nickname: '茶客',
        avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/a.png',
      });
    });

    it('refuses encryptedData made for another appid with 400 and writes no user', async () => {
      const issued = wx.issueCode();
      keep(issued.sessionKey);
      const enc = encryptProfile(issued.sessionKey, {
        nickName: 'x',
        watermark: { appid: 'wx-someone-else', timestamp: 1 },
      });
      const res = await login(a, { code: issued.code, ...enc });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(40000);
      expect(res.body.data.errors).toEqual([expect.objectContaining({ field: 'encryptedData' })]);
      const rows = await db.dataSource.query('SELECT id FROM users WHERE openid = ?', [
        issued.openid,
      ]);
      expect(rows).toEqual([]);
    });

    it('refuses encryptedData that is not valid ciphertext for the session key', async () => {
      const issued = wx.issueCode();
      const res = await login(a, {
        code: issued.code,
        encryptedData: randomBytes(32).toString('base64'),
        iv: randomBytes(16).toString('base64'),
      });
      expect(res.status).toBe(400);
      expect(res.body.data.errors[0].field).toBe('encryptedData');
    });

    it('checks rawData against signature = sha1(rawData + session_key)', async () => {
      const good = wx.issueCode();
      keep(good.sessionKey);
      const rawData = JSON.stringify({ nickName: 'tea' });
      const signature = createHash('sha1')
        .update(rawData + good.sessionKey)
        .digest('hex');
      expect((await login(a, { code: good.code, rawData, signature })).status).toBe(200);

      const bad = wx.issueCode();
      const res = await login(a, { code: bad.code, rawData, signature });
      expect(res.status).toBe(400);
      expect(res.body.data.errors).toEqual([expect.objectContaining({ field: 'signature' })]);
    });

    it('gives the admin role to ADMIN_OPENIDS', async () => {
      const admin = await loginAs(a, wx, { admin: true });
      const user = await loginAs(a, wx);
      keep(admin.accessToken, user.accessToken);
      const me = await a.http.get('/api/v1/users/me').set(bearer(admin.accessToken));
      expect(me.body.data.role).toBe('admin');
      expect((await a.http.get('/api/v1/probe/admin').set(bearer(admin.accessToken))).status).toBe(
        200,
      );
      const denied = await a.http.get('/api/v1/probe/admin').set(bearer(user.accessToken));
      expect(denied.status).toBe(403);
      expect(denied.body.code).toBe(40300);
    });

    it('URL-encodes the code: WeChat receives it byte for byte', async () => {
      const code = 'a+b/c=d&secret=x y%zz?#';
      wx.issueCode({ code });
      const res = await login(a, { code });
      expect(res.status).toBe(200);
      expect(wx.receivedCodes.at(-1)).toBe(code);
    });

    it.each([
      [40029, 422, 42200],
      [40163, 422, 42200],
      [40226, 403, 40301],
      [45011, 429, 42900],
      [-1, 502, 50200],
    ])('maps WeChat errcode %i to %i/%i, calling WeChat once', async (errcode, status, code) => {
      const c = `fail-${errcode}-${uniqueSuffix()}`;
      wx.failCode(c, errcode);
      const before = wx.counts.code2session;
      const res = await login(a, { code: c });
      expect(res.status).toBe(status);
      expect(res.body.code).toBe(code);
      expect(wx.counts.code2session - before).toBe(1);
    });

    it('answers 45011 (WeChat per-user limit) with 429 and Retry-After', async () => {
      const c = `limit-${uniqueSuffix()}`;
      wx.failCode(c, 45011);
      const res = await login(a, { code: c });
      expect(res.status).toBe(429);
      expect(res.body).toMatchObject({ code: 42900, data: { errcode: 45011 } });
      expect(res.headers['retry-after']).toBe('60');
    });

    it('logs the errcode with WeChat rid, never the URL or the secret', async () => {
      const c = `rid-${uniqueSuffix()}`;
      wx.failCode(c, 40029);
      expect((await login(a, { code: c })).status).toBe(422);
      // Nest's static Logger writes to the last app made: look in both replicas' logs.
      const line = [...a.logs, ...b.logs].find((l) =>
        String(l.message).includes('code2session refused: errcode 40029'),
      );
      expect(String(line?.message)).toMatch(/ rid [0-9a-f]+-[0-9a-f]+-[0-9a-f]+$/);
      const raw = a.rawLogs() + b.rawLogs();
      expect(raw).not.toContain('/sns/jscode2session');
      expect(raw).not.toContain('wechat-test-secret-value');
    });

    it('answers 42200 for a code that was already used (single-use, as in WeChat)', async () => {
      const { code } = wx.issueCode();
      expect((await login(a, { code })).status).toBe(200);
      const res = await login(b, { code });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code: 42200, data: { errcode: 40163 } });
    });

    it('answers 502 on a timeout and does not retry (the code may have been used)', async () => {
      const { code } = wx.issueCode();
      wx.delayMs = 800;
      try {
        const before = wx.counts.code2session;
        const res = await login(a, { code });
        expect(res.status).toBe(502);
        expect(res.body.code).toBe(50200);
        await new Promise((r) => setTimeout(r, 900));
        expect(wx.counts.code2session - before).toBe(1);
      } finally {
        wx.delayMs = 0;
      }
    });

    it('answers 502 when WeChat answers something that is not JSON', async () => {
      const { code } = wx.issueCode();
      wx.nonJson = true;
      try {
        const res = await login(a, { code });
        expect(res.status).toBe(502);
        expect(res.body.code).toBe(50200);
      } finally {
        wx.nonJson = false;
      }
    });

    it.each([
      ['missing code', {}, 'code'],
      ['empty code', { code: '' }, 'code'],
      ['non-string code', { code: 42 }, 'code'],
      ['encryptedData without iv', { code: 'x', encryptedData: 'AAAA' }, 'iv'],
      ['an unknown field', { code: 'x', admin: true }, 'admin'],
      ['a lone surrogate in the code', { code: '\ud800' }, 'code'],
      ['a control character in the code', { code: 'ab\u0000c' }, 'code'],
      ['a newline in the code', { code: 'ab\nc' }, 'code'],
    ])('answers 400/40000 for %s without calling WeChat', async (_label, body, field) => {
      const before = wx.counts.code2session;
      const res = await a.http.post('/api/v1/auth/login').send(body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe(40000);
      expect(res.body.data.errors).toEqual([expect.objectContaining({ field })]);
      expect(wx.counts.code2session).toBe(before);
    });
  });

  describe('the auth guard', () => {
    const me = (app: TestApp, token?: string) => {
      const req = app.http.get('/api/v1/users/me');
      return token === undefined ? req : req.set(bearer(token));
    };
    const key = createSecretKey(Buffer.from(SECRET));

    it('admits a valid token and sets the user', async () => {
      const u = await loginAs(a, wx);
      keep(u.accessToken);
      const res = await me(a, u.accessToken);
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ id: u.user.id, role: 'user', phone: null });
      expect(Object.keys(res.body.data).sort()).toEqual(
        ['avatarUrl', 'createdAt', 'id', 'nickname', 'phone', 'role'].sort(),
      );
    });

    it('answers 401/40100 without a bearer token', async () => {
      const res = await me(a);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe(40100);
      const basic = await a.http.get('/api/v1/users/me').set('Authorization', 'Basic abc');
      expect(basic.body.code).toBe(40100);
    });

    it('answers 401/40101 for an expired token', async () => {
      const u = await loginAs(a, wx);
      const claims = jwt.decode(u.accessToken) as jwt.JwtPayload;
      const expired = jwt.sign(
        { sid: claims.sid, role: 'user', sub: claims.sub, exp: Math.floor(Date.now() / 1000) - 5 },
        key,
        { algorithm: 'HS256' },
      );
      const res = await me(a, expired);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe(40101);
    });

    it('answers 401/40100 for forged, tampered, foreign and incomplete tokens', async () => {
      const u = await loginAs(a, wx);
      const claims = jwt.decode(u.accessToken) as jwt.JwtPayload;
      const payload = { sid: claims.sid, role: 'user', sub: claims.sub };
      const [h, p, s] = u.accessToken.split('.');
      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const forged = [
        // alg none
        `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...payload, exp: claims.exp })}.`,
        // another algorithm with the same secret
        jwt.sign(payload, SECRET, { algorithm: 'HS512', expiresIn: 60 }),
        // payload changed after signing (role escalation)
        `${h}.${b64({ ...claims, role: 'admin' })}.${s}`,
        // signed with another secret
        jwt.sign(payload, 'another-secret-another-secret-another-1', { expiresIn: 60 }),
        // no sid
        jwt.sign({ role: 'user', sub: claims.sub }, key, { algorithm: 'HS256', expiresIn: 60 }),
        // garbage
        'not.a.jwt',
        `${h}.${p}`,
      ];
      for (const token of forged) {
        const res = await me(a, token);
        expect({ token, status: res.status, code: res.body.code }).toEqual({
          token,
          status: 401,
          code: 40100,
        });
      }
    });

    it('leaves routes without @Authenticated public', async () => {
      expect((await a.http.get('/health/live')).status).toBe(200);
    });
  });

  describe('POST /auth/refresh', () => {
    const refresh = (app: TestApp, refreshToken: string) =>
      app.http.post('/api/v1/auth/refresh').send({ refreshToken });

    it('rotates: a new pair, the old refresh token spent', async () => {
      const u = await loginAs(a, wx);
      const res = await refresh(b, u.refreshToken);
      expect(res.status).toBe(200);
      const pair = res.body.data;
      keep(pair.accessToken, pair.refreshToken);
      expect(pair.refreshToken).not.toBe(u.refreshToken);
      expect(pair).toMatchObject({ accessTokenExpiresIn: 900, refreshTokenExpiresIn: 2592000 });
      expect((await a.http.get('/api/v1/users/me').set(bearer(pair.accessToken))).status).toBe(200);
      const next = await refresh(a, pair.refreshToken);
      expect(next.status).toBe(200);
      keep(next.body.data.accessToken, next.body.data.refreshToken);
    });

    it('revokes the whole session when a spent refresh token comes back (40102)', async () => {
      const u = await loginAs(a, wx);
      const middle = (await refresh(a, u.refreshToken)).body.data;
      // Rotated twice, the first token is no longer the one just replaced: its
      // return is reuse at once, without waiting out the concurrent-refresh
      // window (the session-store spec covers the window itself).
      const rotated = (await refresh(b, middle.refreshToken)).body.data;
      keep(middle.accessToken, middle.refreshToken, rotated.accessToken, rotated.refreshToken);
      // Prime both replicas' L1 with "live".
      expect((await a.http.get('/api/v1/users/me').set(bearer(rotated.accessToken))).status).toBe(
        200,
      );
      expect((await b.http.get('/api/v1/users/me').set(bearer(rotated.accessToken))).status).toBe(
        200,
      );

      const reuse = await refresh(a, u.refreshToken);
      expect(reuse.status).toBe(401);
      expect(reuse.body.code).toBe(40102);
      // The legitimate holder's newer tokens die with the session, on every replica.
      const newer = await refresh(b, rotated.refreshToken);
      expect(newer.body.code).toBe(40102);
      for (const app of [a, b]) {
        const elapsed = await waitFor(
          async () =>
            (await app.http.get('/api/v1/users/me').set(bearer(rotated.accessToken))).body.code ===
            40102,
          1000,
        );
        expect(elapsed).toBeLessThan(1000);
      }
    });

    it('answers concurrent and repeated refreshes of one token with one new refresh token', async () => {
      const u = await loginAs(a, wx);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => refresh(i % 2 ? a : b, u.refreshToken)),
      );
      // Siblings that raced on two replicas: one rotation, the same successor
      // for all (nothing revoked), each with an access token of the session.
      expect(results.map((r) => r.status)).toEqual(Array<number>(8).fill(200));
      const issued = new Set(results.map((r) => r.body.data.refreshToken as string));
      expect(issued.size).toBe(1);
      const [successor] = issued;
      expect(successor).not.toBe(u.refreshToken);
      keep(successor, ...results.map((r) => r.body.data.accessToken as string));
      // A retry whose answer was lost, a moment later: the same successor again.
      const retried = await refresh(b, u.refreshToken);
      expect(retried.status).toBe(200);
      expect(retried.body.data.refreshToken).toBe(successor);
      for (const app of [a, b]) {
        expect(
          (await app.http.get('/api/v1/users/me').set(bearer(retried.body.data.accessToken)))
            .status,
        ).toBe(200);
      }
      const next = await refresh(b, successor);
      expect(next.status).toBe(200);
      keep(next.body.data.accessToken, next.body.data.refreshToken);
      expect(
        (await a.http.get('/api/v1/users/me').set(bearer(next.body.data.accessToken))).status,
      ).toBe(200);
      // Once the successor was spent, the first token is two rotations old: reuse.
      const reuse = await refresh(a, u.refreshToken);
      expect(reuse.body.code).toBe(40102);
    });

    it('answers 401/40100 for a refresh token that was never issued', async () => {
      const u = await loginAs(a, wx);
      const sid = u.refreshToken.split('.')[0];
      const res = await refresh(a, `${sid}.${randomBytes(32).toString('base64url')}`);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe(40100);
      expect((await refresh(a, 'garbage')).body.code).toBe(40100);
      // A wrong guess does not hurt the real session.
      expect((await refresh(a, u.refreshToken)).status).toBe(200);
    });

    it('answers 400 without a refreshToken', async () => {
      const res = await a.http.post('/api/v1/auth/refresh').send({});
      expect(res.status).toBe(400);
      expect(res.body.data.errors[0].field).toBe('refreshToken');
    });
  });

  describe('logout and sessions', () => {
    it('logout is refused with 40102 by a second replica within 1 s', async () => {
      const u = await loginAs(a, wx);
      keep(u.accessToken, u.refreshToken);
      // Replica B has the session cached as live.
      expect((await b.http.get('/api/v1/users/me').set(bearer(u.accessToken))).status).toBe(200);
      const out = await a.http.post('/api/v1/auth/logout').set(bearer(u.accessToken));
      expect(out.status).toBe(200);
      const elapsed = await waitFor(
        async () =>
          (await b.http.get('/api/v1/users/me').set(bearer(u.accessToken))).body.code === 40102,
        1000,
      );
      expect(elapsed).toBeLessThan(1000);
      const own = await a.http.get('/api/v1/users/me').set(bearer(u.accessToken));
      expect(own.status).toBe(401);
      expect(own.body.code).toBe(40102);
      const r = await a.http.post('/api/v1/auth/refresh').send({ refreshToken: u.refreshToken });
      expect(r.body.code).toBe(40102);
    });

    it('logout-all ends every session of the user and no other user', async () => {
      const one = await loginAs(a, wx);
      const two = await loginAs(b, wx, { openid: one.openid });
      const other = await loginAs(a, wx);
      // Both replicas have both sessions cached as live.
      for (const app of [a, b]) {
        for (const t of [one.accessToken, two.accessToken]) {
          expect((await app.http.get('/api/v1/users/me').set(bearer(t))).status).toBe(200);
        }
      }
      const res = await b.http.post('/api/v1/auth/logout-all').set(bearer(one.accessToken));
      expect(res.status).toBe(200);
      for (const app of [a, b]) {
        for (const t of [one.accessToken, two.accessToken]) {
          const elapsed = await waitFor(
            async () => (await app.http.get('/api/v1/users/me').set(bearer(t))).body.code === 40102,
            1000,
          );
          expect(elapsed).toBeLessThan(1000);
        }
        expect((await app.http.get('/api/v1/users/me').set(bearer(other.accessToken))).status).toBe(
          200,
        );
      }
    });

    it('lists the user own sessions with device and the current one marked', async () => {
      const first = await loginAs(a, wx, { device: 'Pixel 9' });
      const second = await loginAs(b, wx, { openid: first.openid, device: 'iPad' });
      const res = await a.http.get('/api/v1/auth/sessions').set(bearer(second.accessToken));
      expect(res.status).toBe(200);
      const list = res.body.data as {
        id: string;
        device: string;
        createdAt: string;
        lastSeenAt: string;
        current: boolean;
      }[];
      expect(list).toHaveLength(2);
      expect(list.map((s) => s.device).sort()).toEqual(['Pixel 9', 'iPad']);
      expect(list.find((s) => s.current)?.device).toBe('iPad');
      for (const s of list) {
        expect(Object.keys(s).sort()).toEqual([
          'createdAt',
          'current',
          'device',
          'id',
          'lastSeenAt',
        ]);
        expect(Date.parse(s.lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(s.createdAt));
      }
      await a.http.post('/api/v1/auth/logout').set(bearer(first.accessToken));
      const after = await b.http.get('/api/v1/auth/sessions').set(bearer(second.accessToken));
      expect(after.body.data.map((s: { device: string }) => s.device)).toEqual(['iPad']);
    });

    it('logout needs a token', async () => {
      const res = await a.http.post('/api/v1/auth/logout');
      expect(res.status).toBe(401);
      expect(res.body.code).toBe(40100);
    });
  });

  describe('server access_token and the phone number', () => {
    it('two replicas cold-starting make exactly one stable_token call', async () => {
      // Cold: the avatar checks of earlier logins may have fetched a token already.
      await a.app.get<Redis>(REDIS).del(`wx:access_token:${a.config.wechat.appId}`);
      wx.counts.stableToken = 0;
      wx.tokenDelayMs = 200;
      try {
        const users = await Promise.all([a, b, a, b, a, b].map((app) => loginAs(app, wx)));
        users.forEach((u, i) => wx.addPhoneCode(`pc-sf-${i}`, `1380000000${i}`));
        const results = await Promise.all(
          users.map((u, i) =>
            (i % 2 ? b : a).http
              .post('/api/v1/auth/phone')
              .set(bearer(u.accessToken))
              .send({ code: `pc-sf-${i}` }),
          ),
        );
        expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
        expect(wx.counts.stableToken).toBe(1);
      } finally {
        wx.tokenDelayMs = 0;
      }
    });

    it('binds the phone number and returns the user', async () => {
      const u = await loginAs(a, wx);
      wx.addPhoneCode('pc-bind', '13912345678');
      const res = await a.http
        .post('/api/v1/auth/phone')
        .set(bearer(u.accessToken))
        .send({ code: 'pc-bind' });
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ id: u.user.id, phone: '13912345678', role: 'user' });
      const me = await b.http.get('/api/v1/users/me').set(bearer(u.accessToken));
      expect(me.body.data.phone).toBe('13912345678');
    });

    it.each([40001, 40014, 42001])(
      'on %i drops the cached token and retries once',
      async (dead) => {
        const u = await loginAs(a, wx);
        wx.addPhoneCode('pc-retry', '13700000000');
        wx.invalidateAccessToken(dead);
        const tokens = wx.counts.stableToken;
        const phoneCalls = wx.counts.phone;
        const res = await a.http
          .post('/api/v1/auth/phone')
          .set(bearer(u.accessToken))
          .send({ code: 'pc-retry' });
        expect(res.status).toBe(200);
        expect(res.body.data.phone).toBe('13700000000');
        expect(wx.counts.stableToken - tokens).toBe(1);
        expect(wx.counts.phone - phoneCalls).toBe(2);
      },
    );

    it('caches the access_token under a key naming the appid', async () => {
      const keys = await a.redis()!.keys(`${a.config.redis!.keyPrefix}wx:access_token*`);
      expect(keys.map((k) => k.slice(a.config.redis!.keyPrefix.length))).toContain(
        `wx:access_token:${wx.appid}`,
      );
    });

    it('passes the user openid to getuserphonenumber', async () => {
      const u = await loginAs(a, wx);
      wx.addPhoneCode('pc-openid', '13600000000');
      const res = await a.http
        .post('/api/v1/auth/phone')
        .set(bearer(u.accessToken))
        .send({ code: 'pc-openid' });
      expect(res.status).toBe(200);
      expect(wx.phoneOpenids.at(-1)).toBe(u.openid);
    });

    it('maps a rejected phone code to 422/42200 with a phone-code message and binds nothing', async () => {
      const u = await loginAs(a, wx);
      const res = await a.http
        .post('/api/v1/auth/phone')
        .set(bearer(u.accessToken))
        .send({ code: 'never-issued' });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe(42200);
      expect(res.body.message).toBe('WeChat phone code is invalid or expired');
      const me = await a.http.get('/api/v1/users/me').set(bearer(u.accessToken));
      expect(me.body.data.phone).toBeNull();
    });

    it.each([
      [45011, 429, 42900],
      [-1, 502, 50200],
      [40013, 502, 50200],
    ])(
      'maps errcode %i of a phone code to %i/%i and binds nothing',
      async (errcode, status, code) => {
        const u = await loginAs(a, wx);
        const phoneCode = `pc-fail-${errcode}-${uniqueSuffix()}`;
        wx.failPhoneCode(phoneCode, errcode);
        const res = await a.http
          .post('/api/v1/auth/phone')
          .set(bearer(u.accessToken))
          .send({ code: phoneCode });
        expect(res.status).toBe(status);
        expect(res.body.code).toBe(code);
        if (errcode === 45011) expect(res.headers['retry-after']).toBe('60');
        const me = await a.http.get('/api/v1/users/me').set(bearer(u.accessToken));
        expect(me.body.data.phone).toBeNull();
      },
    );

    it('POST /auth/phone needs a code and a token', async () => {
      const u = await loginAs(a, wx);
      const res = await a.http.post('/api/v1/auth/phone').set(bearer(u.accessToken)).send({});
      expect(res.status).toBe(400);
      const before = wx.counts.phone;
      const surrogate = await a.http
        .post('/api/v1/auth/phone')
        .set(bearer(u.accessToken))
        .set('content-type', 'application/json')
        .send('{"code":"\\ud800"}');
      expect(surrogate.status).toBe(400);
      expect(surrogate.body.data.errors).toEqual([expect.objectContaining({ field: 'code' })]);
      expect(wx.counts.phone).toBe(before);
      expect((await a.http.post('/api/v1/auth/phone').send({ code: 'x' })).status).toBe(401);
    });

    it('checkSessionKey signs with HMAC-SHA256(session_key, "")', async () => {
      const u = await loginAs(a, wx);
      const client = a.app.get(WechatClient);
      const sessionKey = wx.sessionKeyOf(u.openid)!;
      keep(sessionKey);
      await expect(client.checkSessionKey(u.openid, sessionKey)).resolves.toBe(true);
      await expect(
        client.checkSessionKey(u.openid, randomBytes(16).toString('base64')),
      ).resolves.toBe(false);
    });
  });

  describe('/users/me', () => {
    it('PATCH updates nickname and avatar; every replica serves the change', async () => {
      const u = await loginAs(a, wx);
      expect(
        (await b.http.get('/api/v1/users/me').set(bearer(u.accessToken))).body.data.nickname,
      ).toBe('');
      const res = await a.http
        .patch('/api/v1/users/me')
        .set(bearer(u.accessToken))
        .send({ nickname: '绿茶', avatarUrl: 'https://cdn.example.com/a.png' });
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({
        id: u.user.id,
        nickname: '绿茶',
        avatarUrl: 'https://cdn.example.com/a.png',
      });
      const elapsed = await waitFor(
        async () =>
          (await b.http.get('/api/v1/users/me').set(bearer(u.accessToken))).body.data.nickname ===
          '绿茶',
        1000,
      );
      expect(elapsed).toBeLessThan(1000);
    });

    it.each([
      ['an http avatarUrl', { avatarUrl: 'http://cdn.example.com/a.png' }, 'avatarUrl'],
      ['a non-URL avatarUrl', { avatarUrl: 'not a url' }, 'avatarUrl'],
      ['a nickname over 32 chars', { nickname: 'x'.repeat(33) }, 'nickname'],
      ['an empty nickname', { nickname: '' }, 'nickname'],
      ['a role change', { role: 'admin' }, 'role'],
    ])('PATCH answers 400/40000 for %s and changes nothing', async (_label, body, field) => {
      const u = await loginAs(a, wx);
      const res = await a.http.patch('/api/v1/users/me').set(bearer(u.accessToken)).send(body);
      expect(res.status).toBe(400);
      expect(res.body.data.errors).toEqual([expect.objectContaining({ field })]);
      const me = await a.http.get('/api/v1/users/me').set(bearer(u.accessToken));
      expect(me.body.data).toMatchObject({ nickname: '', avatarUrl: null, role: 'user' });
    });

    it('GET is served from L1 after the first load: no Redis (L2) read, no loader', async () => {
      const u = await loginAs(a, wx);
      const cache = a.app.get(TwoTierCache);
      expect((await a.http.get('/api/v1/users/me').set(bearer(u.accessToken))).status).toBe(200);
      const { l1Hits, l2Hits, misses } = cache.stats;
      for (let i = 0; i < 20; i++) {
        const res = await a.http.get('/api/v1/users/me').set(bearer(u.accessToken));
        expect(res.body.data.id).toBe(u.user.id);
      }
      expect(cache.stats.l1Hits - l1Hits).toBe(20);
      expect(cache.stats.l2Hits - l2Hits).toBe(0);
      expect(cache.stats.misses - misses).toBe(0);
    });

    it('a phone bound on one replica is served by the other within 1 s', async () => {
      const u = await loginAs(a, wx);
      // Both replicas hold the view without a phone.
      for (const app of [a, b]) {
        expect(
          (await app.http.get('/api/v1/users/me').set(bearer(u.accessToken))).body.data.phone,
        ).toBeNull();
      }
      wx.addPhoneCode('pc-cache', '13655555555');
      const res = await a.http
        .post('/api/v1/auth/phone')
        .set(bearer(u.accessToken))
        .send({ code: 'pc-cache' });
      expect(res.status).toBe(200);
      const elapsed = await waitFor(
        async () =>
          (await b.http.get('/api/v1/users/me').set(bearer(u.accessToken))).body.data.phone ===
          '13655555555',
        1000,
      );
      expect(elapsed).toBeLessThan(1000);
    });

    it('GET needs a token', async () => {
      expect((await a.http.get('/api/v1/users/me')).status).toBe(401);
    });
  });

  it('no log line holds the WeChat secret, a session_key or a token', () => {
    const logs = a.rawLogs() + b.rawLogs();
    expect(logs.length).toBeGreaterThan(0);
    for (const value of secrets) expect(logs).not.toContain(value);
    expect(logs).not.toMatch(/session_key|AT_\d+_/);
  });
});

/** The value of one series in a Prometheus text page, or undefined when absent. */
function metric(page: string, series: string): number | undefined {
  const line = page.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('auth: WeChat metrics in /metrics', () => {
  // Far above a login's time on a loaded 2-core CI machine (300 ms timed out
  // ordinary logins there), yet short enough for the timeout test below.
  const stack = useStack({ env: { WECHAT_TIMEOUT_MS: '2000' } });

  it('counts calls by api and failures by known errcode, else "other"', async () => {
    const u = await loginAs(stack.app, stack.wx);
    stack.wx.failCode('m-rejected', 40029);
    stack.wx.failCode('m-odd', 40999);
    expect(
      (await stack.app.http.post('/api/v1/auth/login').send({ code: 'm-rejected' })).status,
    ).toBe(422);
    expect((await stack.app.http.post('/api/v1/auth/login').send({ code: 'm-odd' })).status).toBe(
      502,
    );
    stack.wx.addPhoneCode('m-phone', '13811112222');
    const phone = await stack.app.http
      .post('/api/v1/auth/phone')
      .set(bearer(u.accessToken))
      .send({ code: 'm-phone' });
    expect(phone.status).toBe(200);
    const client = stack.app.app.get(WechatClient);
    await expect(client.checkSessionKey(u.openid, stack.wx.sessionKeyOf(u.openid)!)).resolves.toBe(
      true,
    );
    await expect(
      client.checkSessionKey(u.openid, randomBytes(16).toString('base64')),
    ).resolves.toBe(false);

    const res = await stack.app.http.get('/metrics');
    expect(res.status).toBe(200);
    const page = res.text;
    const count = (api: string) =>
      metric(page, `wechat_request_duration_seconds_count{api="${api}"}`);
    const errors = (api: string, errcode: string) =>
      metric(page, `wechat_errors_total{api="${api}",errcode="${errcode}"}`);
    expect(count('code2session')).toBe(3);
    expect(count('stable_token')).toBe(1);
    expect(count('getuserphonenumber')).toBe(1);
    expect(count('checksession')).toBe(2);
    expect(errors('code2session', '40029')).toBe(1);
    expect(errors('code2session', 'other')).toBe(1);
    expect(errors('checksession', '87009')).toBe(1);
    expect(page).not.toContain('errcode="40999"');
    expect(page).not.toMatch(/wechat_errors_total\{api="(stable_token|getuserphonenumber)"/);
    expect(metric(page, 'wechat_circuit_breaker_state{api="code2session"}')).toBe(0);
  });

  it('counts timeouts by kind', async () => {
    const { code } = stack.wx.issueCode();
    stack.wx.delayMs = 2500;
    try {
      expect((await stack.app.http.post('/api/v1/auth/login').send({ code })).status).toBe(502);
    } finally {
      stack.wx.delayMs = 0;
    }
    const page = (await stack.app.http.get('/metrics')).text;
    expect(metric(page, 'wechat_errors_total{api="code2session",errcode="timeout"}')).toBe(1);
  });
});

describe('auth: the WeChat circuit breaker', () => {
  const stack = useStack();

  it('fails logins fast with 502/50200 once WeChat keeps failing', async () => {
    stack.wx.failAll = -1;
    for (let i = 0; i < 5; i++) {
      const res = await stack.app.http.post('/api/v1/auth/login').send({ code: `busy-${i}` });
      expect(res.status).toBe(502);
    }
    expect(stack.wx.counts.code2session).toBe(5);
    stack.wx.failAll = undefined;
    const { code } = stack.wx.issueCode();
    const res = await stack.app.http.post('/api/v1/auth/login').send({ code });
    expect(res.status).toBe(502);
    expect(res.body.code).toBe(50200);
    // The circuit is open: WeChat was not called at all.
    expect(stack.wx.counts.code2session).toBe(5);
    const page = (await stack.app.http.get('/metrics')).text;
    expect(metric(page, 'wechat_circuit_breaker_state{api="code2session"}')).toBe(2);
    expect(metric(page, 'wechat_errors_total{api="code2session",errcode="-1"}')).toBe(5);
    expect(metric(page, 'wechat_errors_total{api="code2session",errcode="circuit_open"}')).toBe(1);
  });

  it('does not count rejected codes as WeChat failures', async () => {
    const db2 = await createTestDatabase();
    const t2 = await startTestApp({
      ...baseEnv(db2.url, testRedisPrefix()),
      WECHAT_API_BASE_URL: stack.wx.url,
    });
    try {
      for (let i = 0; i < 8; i++) {
        const res = await t2.http.post('/api/v1/auth/login').send({ code: `unknown-${i}` });
        expect(res.status).toBe(422);
      }
      const { code } = stack.wx.issueCode();
      expect((await t2.http.post('/api/v1/auth/login').send({ code })).status).toBe(200);
    } finally {
      await t2.close();
      await db2.drop();
    }
  });
});

describe('auth while Redis is unreachable', () => {
  let db: TestDatabase;
  let wx: FakeWechat;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    wx = await startFakeWechat();
    t = await startTestApp({
      ...baseEnv(db.url, testRedisPrefix()),
      REDIS_URL: 'redis://127.0.0.1:1/0',
      WECHAT_API_BASE_URL: wx.url,
    });
  });
  afterAll(async () => {
    await t?.close();
    await wx?.close();
    await db?.drop();
  });

  it('answers 503/50300, not 500, for login and for authenticated routes', async () => {
    const { code } = wx.issueCode();
    const res = await t.http.post('/api/v1/auth/login').send({ code });
    expect(res.status).toBe(503);
    expect(res.body.code).toBe(50300);
    const token = jwt.sign({ sid: 'x'.repeat(22), role: 'user' }, SECRET, {
      algorithm: 'HS256',
      subject: '1',
      expiresIn: 60,
    });
    const me = await t.http.get('/api/v1/users/me').set(bearer(token));
    expect(me.status).toBe(503);
    expect(me.body.code).toBe(50300);
  });
});

describe('WeChat breakers: what a client causes never blocks another user', () => {
  // Far above a login's time on a loaded 2-core CI machine (300 ms timed out
  // ordinary logins there), yet short enough for the timeout test below.
  const stack = useStack({ env: { WECHAT_TIMEOUT_MS: '2000' } });
  const loginWith = (body: string | object) =>
    stack.app.http.post('/api/v1/auth/login').set('content-type', 'application/json').send(body);
  const page = async () => (await stack.app.http.get('/metrics')).text;
  const breaker = (text: string, api: string) =>
    metric(text, `wechat_circuit_breaker_state{api="${api}"}`);

  async function anotherUserLogsIn() {
    const { code } = stack.wx.issueCode();
    const before = stack.wx.counts.code2session;
    const res = await loginWith({ code });
    expect(res.status).toBe(200);
    expect(stack.wx.counts.code2session - before).toBe(1);
  }

  it('five 45011 answers (per-user limit): 429 each, then another user logs in', async () => {
    for (let i = 0; i < 6; i++) {
      const code = `quota-${i}-${uniqueSuffix()}`;
      stack.wx.failCode(code, 45011);
      const res = await loginWith({ code });
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('60');
    }
    await anotherUserLogsIn();
    expect(breaker(await page(), 'code2session')).toBe(0);
  });

  it('five 87009 answers from checkSessionKey (stale key): still asked, logins unaffected', async () => {
    const u = await loginAs(stack.app, stack.wx);
    const client = stack.app.app.get(WechatClient);
    const before = stack.wx.counts.checksession;
    for (let i = 0; i < 6; i++) {
      await expect(
        client.checkSessionKey(u.openid, randomBytes(16).toString('base64')),
      ).resolves.toBe(false);
    }
    expect(stack.wx.counts.checksession - before).toBe(6);
    await anotherUserLogsIn();
    expect(breaker(await page(), 'checksession')).toBe(0);
  });

  it('five lone-surrogate codes: 400 before any WeChat call, then another user logs in', async () => {
    const before = stack.wx.counts.code2session;
    for (let i = 0; i < 6; i++) {
      const res = await loginWith(`{"code":"x\\ud800${i}"}`);
      expect(res.status).toBe(400);
      expect(res.body.data.errors).toEqual([expect.objectContaining({ field: 'code' })]);
    }
    expect(stack.wx.counts.code2session).toBe(before);
    await anotherUserLogsIn();
  });

  it('five errcodes WeChat does not document here (client-caused): 502, breaker stays closed', async () => {
    for (let i = 0; i < 6; i++) {
      const code = `odd-${i}-${uniqueSuffix()}`;
      stack.wx.failCode(code, 40999);
      expect((await loginWith({ code })).status).toBe(502);
    }
    await anotherUserLogsIn();
  });

  it('a real outage of code2session opens only its breaker: phone binding still works', async () => {
    const u = await loginAs(stack.app, stack.wx);
    stack.wx.outage.add('code2session');
    try {
      for (let i = 0; i < 5; i++) {
        const res = await loginWith({ code: stack.wx.issueCode().code });
        expect(res.status).toBe(502);
      }
      const calls = stack.wx.counts.code2session;
      const refused = await loginWith({ code: stack.wx.issueCode().code });
      expect(refused.status).toBe(502);
      expect(refused.body.code).toBe(50200);
      expect(stack.wx.counts.code2session).toBe(calls);
      stack.wx.addPhoneCode('pc-outage', '13500000000');
      const phone = await stack.app.http
        .post('/api/v1/auth/phone')
        .set(bearer(u.accessToken))
        .send({ code: 'pc-outage' });
      expect(phone.status).toBe(200);
      const text = await page();
      expect(breaker(text, 'code2session')).toBe(2);
      expect(breaker(text, 'getuserphonenumber')).toBe(0);
      expect(breaker(text, 'stable_token')).toBe(0);
      expect(metric(text, 'wechat_errors_total{api="code2session",errcode="http_5xx"}')).toBe(5);
    } finally {
      stack.wx.outage.delete('code2session');
    }
  });
});
