import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Response } from 'supertest';
import { startEmbeddedTestApp, startTestApp, type TestApp } from './helpers/app.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, dropRedisKeys, testRedisPrefix } from './helpers/env.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';
import { useStack } from './helpers/stack.js';

/**
 * The staff console's sign-in by scan and its cookie session (docs/console.md):
 * two replicas on one MariaDB and one Redis, the fake WeChat making the
 * mini-program codes, a console built into a temporary CONSOLE_DIR.
 */

const ADMIN_OPENID = 'console-admin';
const LOGIN_PAGE = 'pages/console-login/index';
const TICKET_TTL_MS = 1500;
const CSP =
  "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:;connect-src 'self';frame-ancestors 'none';base-uri 'none';form-action 'self';object-src 'none'";
const adminCli = new URL('../dist/src/cli/admin.js', import.meta.url).pathname;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const CSRF = { 'X-Console-CSRF': '1' };

/** A built console as Vite lays it out: index.html and hashed assets. */
function fakeConsoleBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mp-console-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><title>console</title><script type="module" src="/console/assets/index-abc123.js"></script>',
  );
  writeFileSync(join(dir, 'assets/index-abc123.js'), 'console.log("console");');
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return dir;
}

/** The Set-Cookie lines of an answer, by cookie name. */
function setCookies(res: Response): Map<string, string> {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  return new Map((raw ?? []).map((line) => [line.slice(0, line.indexOf('=')), line]));
}

/** `name=value` of a Set-Cookie line, as the browser sends it back. */
const cookiePair = (line: string | undefined) => (line ?? '').split(';')[0];

interface Ticket {
  ticket: string;
  expiresAt: string;
  qrcode: string;
  /** The `mp_console_login=…` pair of the browser that asked for it. */
  binder: string;
  res: Response;
}

async function newTicket(app: TestApp): Promise<Ticket> {
  const res = await app.http.post('/console/login-tickets');
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const data = res.body.data as Omit<Ticket, 'binder' | 'res'>;
  return { ...data, binder: cookiePair(setCookies(res).get('mp_console_login')), res };
}

const poll = (app: TestApp, ticket: string, binder?: string) => {
  const req = app.http.get(`/console/login-tickets/${ticket}`);
  return binder ? req.set('Cookie', binder) : req;
};

const approve = (app: TestApp, ticket: string, token?: string) => {
  const req = app.http.post(`/console/login-tickets/${ticket}/approve`);
  return token ? req.set(bearer(token)) : req;
};

/** The whole sign-in of a staff member on `app`; returns the `mp_console=…` pair. */
async function signIn(app: TestApp, staff: LoggedIn, via: TestApp = app): Promise<string> {
  const t = await newTicket(app);
  expect((await approve(via, t.ticket, staff.accessToken)).status).toBe(200);
  const res = await poll(app, t.ticket, t.binder);
  expect(res.body.data).toEqual({ status: 'approved' });
  return cookiePair(setCookies(res).get('mp_console'));
}

describe('console sign-in by scan and the cookie session (MariaDB, Redis, two replicas)', () => {
  const dir = fakeConsoleBuild();
  const stack = useStack({
    apps: 2,
    env: {
      LOG_LEVEL: 'info',
      ADMIN_OPENIDS: ADMIN_OPENID,
      CONSOLE_DIR: dir,
      CONSOLE_TICKET_TTL_MS: String(TICKET_TTL_MS),
    },
  });
  let admin: LoggedIn;

  beforeAll(async () => {
    stack.wx.pages.add(LOGIN_PAGE);
    admin = await loginAs(stack.app, stack.wx, { admin: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A new user given `role` by the admin (PUT /admin/users/:id/role). */
  async function staffWith(role: string): Promise<LoggedIn> {
    const user = await loginAs(stack.app, stack.wx);
    if (role !== 'user') {
      const res = await stack.app.http
        .put(`/api/v1/admin/users/${user.user.id}/role`)
        .set(bearer(admin.accessToken))
        .send({ role });
      expect(res.status).toBe(200);
    }
    return user;
  }

  it('makes a one-time ticket with the mini-program code of the approve page', async () => {
    const before = Date.now();
    const t = await newTicket(stack.app);
    expect(t.ticket).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const expiresAt = Date.parse(t.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + TICKET_TTL_MS - 50);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + TICKET_TTL_MS + 50);
    expect(t.qrcode).toMatch(/^data:image\/png;base64,/);
    const png = Buffer.from(t.qrcode.slice(t.qrcode.indexOf(',') + 1), 'base64');
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(stack.wx.wxacodes.at(-1)).toMatchObject({ scene: t.ticket, page: LOGIN_PAGE });
    // The browser's secret: HttpOnly, for the ticket routes only, as long as the ticket.
    expect(setCookies(t.res).get('mp_console_login')).toMatch(
      /^mp_console_login=[A-Za-z0-9_-]{43}; Path=\/console\/login-tickets; Max-Age=2; HttpOnly; SameSite=Strict$/,
    );
    expect((await newTicket(stack.app)).ticket).not.toBe(t.ticket);
    // Waiting on either replica (the ticket is in Redis).
    for (const app of stack.apps) {
      expect((await poll(app, t.ticket, t.binder)).body.data).toEqual({ status: 'waiting' });
    }
  });

  it('is approved by staff only, once; the first poll of the browser that asked signs in', async () => {
    const t = await newTicket(stack.app);
    expect((await approve(stack.app, t.ticket)).status).toBe(401);
    const user = await staffWith('user');
    const refused = await approve(stack.app, t.ticket, user.accessToken);
    expect([refused.status, refused.body.code]).toEqual([403, 40300]);
    expect((await poll(stack.app, t.ticket, t.binder)).body.data).toEqual({ status: 'waiting' });

    const support = await staffWith('support');
    expect((await approve(stack.apps[1], t.ticket, support.accessToken)).status).toBe(200);
    const again = await approve(stack.app, t.ticket, support.accessToken);
    expect([again.status, again.body.code]).toEqual([409, 40900]);

    // Another browser (no secret, or its own) learns nothing and spends nothing.
    expect((await poll(stack.app, t.ticket)).body.data).toEqual({ status: 'expired' });
    const other = await newTicket(stack.app);
    expect((await poll(stack.app, t.ticket, other.binder)).body.data).toEqual({
      status: 'expired',
    });

    const first = await poll(stack.apps[1], t.ticket, t.binder);
    expect(first.body.data).toEqual({ status: 'approved' });
    const cookies = setCookies(first);
    expect(cookies.get('mp_console')).toMatch(
      new RegExp(
        `^mp_console=[A-Za-z0-9_-]{43}; Path=/; Max-Age=${stack.app.config.jwt.refreshTtl}; HttpOnly; SameSite=Strict$`,
      ),
    );
    expect(cookies.get('mp_console_login')).toMatch(/^mp_console_login=; .*Max-Age=0/);
    // Spent by that read.
    const second = await poll(stack.app, t.ticket, t.binder);
    expect(second.body.data).toEqual({ status: 'expired' });
    expect(setCookies(second).has('mp_console')).toBe(false);
    expect((await approve(stack.app, t.ticket, support.accessToken)).status).toBe(409);

    const me = await stack.app.http
      .get('/api/v1/users/me')
      .set('Cookie', cookiePair(cookies.get('mp_console')));
    expect(me.status).toBe(200);
    expect(me.body.data).toMatchObject({ id: support.user.id, role: 'support' });
  });

  it('takes one approval and starts one session when replicas race for a ticket', async () => {
    const [a, b] = [await staffWith('support'), await staffWith('finance')];
    const t = await newTicket(stack.app);
    const approvals = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        approve(stack.apps[i % 2], t.ticket, (i % 2 ? a : b).accessToken),
      ),
    );
    expect(approvals.map((r) => r.status).sort((x, y) => x - y)).toEqual([
      200, 409, 409, 409, 409, 409, 409, 409,
    ]);
    const polls = await Promise.all(
      Array.from({ length: 8 }, (_, i) => poll(stack.apps[i % 2], t.ticket, t.binder)),
    );
    const signedIn = polls.filter((r) => setCookies(r).has('mp_console'));
    expect(signedIn).toHaveLength(1);
    expect(polls.filter((r) => r.body.data.status === 'approved')).toHaveLength(1);
    // The winner of the approvals is who the console is.
    const winner = approvals.findIndex((r) => r.status === 200) % 2 ? a : b;
    const me = await stack.app.http
      .get('/api/v1/users/me')
      .set('Cookie', cookiePair(setCookies(signedIn[0]).get('mp_console')));
    expect(me.body.data.id).toBe(winner.user.id);
  });

  it('sets the cookie Secure on any host but localhost', async () => {
    const support = await staffWith('support');
    const res = await stack.app.http
      .post('/console/login-tickets')
      .set('Host', 'console.example.com');
    const binder = setCookies(res).get('mp_console_login');
    expect(binder).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
    const ticket = (res.body.data as Ticket).ticket;
    expect((await approve(stack.app, ticket, support.accessToken)).status).toBe(200);
    const first = await poll(stack.app, ticket, cookiePair(binder)).set(
      'Host',
      'console.example.com',
    );
    expect(setCookies(first).get('mp_console')).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
  });

  it('lets a ticket expire: no approval, no session', async () => {
    const support = await staffWith('support');
    const t = await newTicket(stack.app);
    await sleep(TICKET_TTL_MS + 100);
    expect((await poll(stack.app, t.ticket, t.binder)).body.data).toEqual({ status: 'expired' });
    const late = await approve(stack.app, t.ticket, support.accessToken);
    expect([late.status, late.body.code]).toEqual([409, 40900]);
    // Malformed tickets are answered the same way, never 500.
    expect((await poll(stack.app, 'x', t.binder)).body.data).toEqual({ status: 'expired' });
    expect((await approve(stack.app, 'not-a-ticket', support.accessToken)).status).toBe(409);
  });

  it('authenticates the API like a bearer token; writes need the CSRF header and this origin', async () => {
    const cookie = await signIn(stack.app, admin);
    for (const app of stack.apps) {
      const users = await app.http.get('/api/v1/admin/users').set('Cookie', cookie);
      expect(users.status).toBe(200);
    }
    expect((await stack.app.http.get('/api/v1/admin/users')).status).toBe(401);
    const target = await staffWith('user');
    const put = (headers: Record<string, string>) =>
      stack.apps[1].http
        .put(`/api/v1/admin/users/${target.user.id}/role`)
        .set({ Cookie: cookie, ...headers })
        .send({ role: 'operator' });

    const noHeader = await put({});
    expect([noHeader.status, noHeader.body.code]).toEqual([403, 40300]);
    expect(noHeader.body.message).toContain('x-console-csrf');
    const foreign = await put({ ...CSRF, Origin: 'https://evil.example' });
    expect([foreign.status, foreign.body.code]).toEqual([403, 40300]);
    const opaque = await put({ ...CSRF, Origin: 'null' });
    expect(opaque.status).toBe(403);
    // Refused writes changed nothing.
    const unchanged = await stack.app.http
      .get(`/api/v1/admin/users?q=${target.user.id}`)
      .set('Cookie', cookie);
    expect(unchanged.status).toBe(200);

    const ok = await put(CSRF);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.data).toMatchObject({ id: target.user.id, role: 'operator' });
    // Behind nginx on another port (compose's 8080), Host has no port and Origin has it.
    const behindProxy = { ...CSRF, Host: 'console.example.com' };
    for (const origin of ['https://console.example.com', 'http://console.example.com:8080']) {
      expect((await put({ ...behindProxy, Origin: origin })).status, origin).toBe(200);
    }
    for (const origin of ['https://console.example.com.evil.example', 'https://example.com']) {
      expect((await put({ ...behindProxy, Origin: origin })).status, origin).toBe(403);
    }
    // Audited as the console's user, like a bearer write.
    const audit = await stack.db.dataSource.query(
      "SELECT actor_id FROM audit_log WHERE target = ? AND action = 'user.role'",
      [`user:${target.user.id}`],
    );
    expect(audit.map((r: { actor_id: number }) => r.actor_id)).toContain(admin.user.id);

    // A bearer wins over the cookie, and needs no CSRF header.
    const both = await stack.app.http
      .get('/api/v1/admin/users')
      .set({ Cookie: cookie, ...bearer(target.accessToken) });
    expect(both.status).toBe(200);
    const userBearer = await staffWith('user');
    const userWins = await stack.app.http
      .get('/api/v1/admin/users')
      .set({ Cookie: cookie, ...bearer(userBearer.accessToken) });
    expect(userWins.status).toBe(403);
    const bearerWrite = await stack.app.http
      .put(`/api/v1/admin/users/${target.user.id}/role`)
      .set(bearer(admin.accessToken))
      .send({ role: 'user' });
    expect(bearerWrite.status).toBe(200);
  });

  it('counts a cookie request against its user, like a bearer request', async () => {
    const support = await staffWith('support');
    const cookie = await signIn(stack.app, support);
    const viaCookie = await stack.app.http.get('/api/v1/users/me').set('Cookie', cookie);
    const viaBearer = await stack.app.http.get('/api/v1/users/me').set(bearer(support.accessToken));
    // One per-user counter: the bearer request sees the cookie request's hit.
    const remaining = (res: Response) => Number(res.headers['x-ratelimit-remaining']);
    expect(remaining(viaCookie) - remaining(viaBearer)).toBe(1);
  });

  it('ends at logout, on every replica', async () => {
    const cookie = await signIn(stack.app, admin);
    const noCsrf = await stack.apps[1].http.post('/console/logout').set('Cookie', cookie);
    expect([noCsrf.status, noCsrf.body.code]).toEqual([403, 40300]);
    expect((await stack.app.http.get('/api/v1/users/me').set('Cookie', cookie)).status).toBe(200);

    const out = await stack.apps[1].http.post('/console/logout').set({ Cookie: cookie, ...CSRF });
    expect(out.status).toBe(200);
    expect(setCookies(out).get('mp_console')).toMatch(
      /^mp_console=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict$/,
    );
    for (const app of stack.apps) {
      const after = await app.http.get('/api/v1/users/me').set('Cookie', cookie);
      expect([after.status, after.body.code]).toEqual([401, 40100]);
    }
    // The staff member's mini-program session goes on.
    expect(
      (await stack.app.http.get('/api/v1/users/me').set(bearer(admin.accessToken))).status,
    ).toBe(200);
  });

  it('ends within 1 s on the other replica when the role changes (PUT and npm run admin)', async () => {
    const operator = await staffWith('operator');
    const cookie = await signIn(stack.apps[1], operator);
    const me = (app: TestApp) => app.http.get('/api/v1/users/me').set('Cookie', cookie);
    expect((await me(stack.apps[1])).status).toBe(200);

    const changed = await stack.app.http
      .put(`/api/v1/admin/users/${operator.user.id}/role`)
      .set(bearer(admin.accessToken))
      .send({ role: 'finance' });
    expect(changed.status).toBe(200);
    const at = Date.now();
    const ended = await me(stack.apps[1]);
    expect([ended.status, ended.body.code]).toEqual([401, 40102]);
    expect(Date.now() - at).toBeLessThan(1000);
    // Ended for good, even after the role is back.
    await stack.app.http
      .put(`/api/v1/admin/users/${operator.user.id}/role`)
      .set(bearer(admin.accessToken))
      .send({ role: 'operator' });
    expect((await me(stack.app)).status).toBe(401);

    // Changed and changed back before the console's next request: ended all the same.
    const flipped = await staffWith('support');
    const cookie3 = await signIn(stack.app, flipped);
    for (const role of ['finance', 'support']) {
      const res = await stack.app.http
        .put(`/api/v1/admin/users/${flipped.user.id}/role`)
        .set(bearer(admin.accessToken))
        .send({ role });
      expect(res.status).toBe(200);
    }
    const flippedMe = await stack.apps[1].http.get('/api/v1/users/me').set('Cookie', cookie3);
    expect([flippedMe.status, flippedMe.body.code]).toEqual([401, 40102]);
    // The same role granted again is no change.
    const steady = await staffWith('operator');
    const cookie4 = await signIn(stack.app, steady);
    await stack.app.http
      .put(`/api/v1/admin/users/${steady.user.id}/role`)
      .set(bearer(admin.accessToken))
      .send({ role: 'operator' });
    expect((await stack.apps[1].http.get('/api/v1/users/me').set('Cookie', cookie4)).status).toBe(
      200,
    );

    // The command line, another process on the same database.
    const finance = await staffWith('finance');
    const cookie2 = await signIn(stack.app, finance);
    expect((await stack.apps[1].http.get('/api/v1/users/me').set('Cookie', cookie2)).status).toBe(
      200,
    );
    await promisify(execFile)(process.execPath, [adminCli, 'revoke', String(finance.user.id)], {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        DATABASE_URL: stack.db.url,
        ADMIN_OPENIDS: ADMIN_OPENID,
      },
    });
    const at2 = Date.now();
    const ended2 = await stack.apps[1].http.get('/api/v1/users/me').set('Cookie', cookie2);
    expect([ended2.status, ended2.body.code]).toEqual([401, 40102]);
    expect(Date.now() - at2).toBeLessThan(1000);
  }, 120_000);

  it('ends within 1 s on the other replica when the staff session is revoked', async () => {
    const support = await staffWith('support');
    const cookie = await signIn(stack.app, support);
    // Seen live on replica 1 first: its memory must learn of the revocation.
    expect((await stack.apps[1].http.get('/api/v1/users/me').set('Cookie', cookie)).status).toBe(
      200,
    );
    const out = await stack.app.http
      .post('/api/v1/auth/logout-all')
      .set(bearer(support.accessToken));
    expect(out.status).toBe(200);
    const at = Date.now();
    let ended: Response | undefined;
    while (Date.now() - at < 1000) {
      ended = await stack.apps[1].http.get('/api/v1/users/me').set('Cookie', cookie);
      if (ended.status === 401) break;
      await sleep(20);
    }
    expect([ended?.status, ended?.body.code]).toEqual([401, 40102]);
  });

  it('serves the built console with a strict CSP; client routes get index.html', async () => {
    for (const path of ['/console/', '/console/orders/42']) {
      const res = await stack.app.http.get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('/console/assets/index-abc123.js');
      expect(res.headers['content-security-policy']).toBe(CSP);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cache-control']).toBe('no-cache');
    }
    const asset = await stack.app.http.get('/console/assets/index-abc123.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-security-policy']).toBe(CSP);
    const icon = await stack.app.http.get('/console/favicon.svg');
    expect([icon.status, icon.headers['cache-control']]).toEqual([200, 'no-cache']);
    expect((await stack.app.http.get('/console')).headers.location).toBe('/console/');

    // A missing asset is a 404 in the envelope, never index.html run as a script.
    const missing = await stack.app.http.get('/console/assets/gone-000.js');
    expect([missing.status, missing.body.code]).toEqual([404, 40400]);
    expect(missing.headers['content-security-policy']).toBe(CSP);
    // Nothing outside the folder, no dotfile.
    for (const path of ['/console/..%2f..%2fpackage.json', '/console/%2e%2e/%2e%2e/package.json']) {
      const res = await stack.app.http.get(path);
      expect(res.text, path).not.toContain('"dependencies"');
    }
    // The sign-in routes' answers carry the console's CSP too.
    const t = await newTicket(stack.app);
    expect(t.res.headers['content-security-policy']).toBe(CSP);
  });

  it('puts no secret in answers or logs', async () => {
    const t = await newTicket(stack.app);
    expect((await approve(stack.app, t.ticket, admin.accessToken)).status).toBe(200);
    const res = await poll(stack.app, t.ticket, t.binder);
    const session = cookiePair(setCookies(res).get('mp_console')).split('=')[1];
    const secrets = [
      stack.app.config.jwt.secret,
      'wechat-test-secret-value',
      t.binder.split('=')[1],
      session,
      admin.accessToken,
    ];
    for (const body of [JSON.stringify(t.res.body), JSON.stringify(res.body)]) {
      for (const secret of secrets) expect(body).not.toContain(secret);
    }
    const logs = stack.apps.map((a) => a.rawLogs()).join('');
    for (const secret of secrets.slice(0, 4)) expect(logs).not.toContain(secret);
    // Redis holds the cookie's hash, never the cookie.
    const redis = stack.app.redis()!;
    const keys = await redis.keys(`${stack.app.config.redis!.keyPrefix}cons:*`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join(' ')).not.toContain(session);
  });
});

describe('the development sign-in', () => {
  it('approves its own ticket as the sandbox admin in the embedded sandbox (no WeChat credentials)', async () => {
    const dir = fakeConsoleBuild();
    const app = await startEmbeddedTestApp({ LOG_LEVEL: 'warn', CONSOLE_DIR: dir });
    try {
      const t = await newTicket(app);
      // The sandbox's own PNG, no WeChat call.
      expect(t.qrcode).toMatch(/^data:image\/png;base64,iVBOR/);
      const ok = await app.http.post(`/console/login-tickets/${t.ticket}/dev-approve`);
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect((await app.http.post(`/console/login-tickets/${t.ticket}/dev-approve`)).status).toBe(
        409,
      );
      const res = await poll(app, t.ticket, t.binder);
      expect(res.body.data).toEqual({ status: 'approved' });
      const cookie = cookiePair(setCookies(res).get('mp_console'));
      const me = await app.http.get('/api/v1/users/me').set('Cookie', cookie);
      expect(me.body.data).toMatchObject({ role: 'admin', nickname: 'Console (development)' });
      expect((await app.http.get('/api/v1/admin/users').set('Cookie', cookie)).status).toBe(200);
      // A second sign-in finds the same user.
      const t2 = await newTicket(app);
      await app.http.post(`/console/login-tickets/${t2.ticket}/dev-approve`);
      const res2 = await poll(app, t2.ticket, t2.binder);
      const me2 = await app.http
        .get('/api/v1/users/me')
        .set('Cookie', cookiePair(setCookies(res2).get('mp_console')));
      expect(me2.body.data.id).toBe(me.body.data.id);
      const out = await app.http.post('/console/logout').set({ Cookie: cookie, ...CSRF });
      expect(out.status).toBe(200);
      expect((await app.http.get('/api/v1/users/me').set('Cookie', cookie)).status).toBe(401);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('with NODE_ENV=production', () => {
    let db: TestDatabase;
    let wx: FakeWechat;
    let app: TestApp;
    const prefix = testRedisPrefix();
    beforeAll(async () => {
      db = await createTestDatabase();
      wx = await startFakeWechat();
      wx.pages.add(LOGIN_PAGE);
      app = await startTestApp({
        ...baseEnv(db.url, prefix),
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        WECHAT_API_BASE_URL: wx.url,
        // Not built: the server boots anyway.
        CONSOLE_DIR: join(tmpdir(), `mp-console-absent-${process.pid}`),
      });
    });
    afterAll(async () => {
      await app?.close();
      await wx?.close();
      await db?.drop();
      await dropRedisKeys(prefix);
    });

    it('does not exist (404), and a console that is not built says how to build it', async () => {
      const t = await newTicket(app);
      const dev = await app.http.post(`/console/login-tickets/${t.ticket}/dev-approve`);
      expect([dev.status, dev.body.code]).toEqual([404, 40400]);
      expect((await poll(app, t.ticket, t.binder)).body.data).toEqual({ status: 'waiting' });
      const page = await app.http.get('/console/');
      expect([page.status, page.body.code]).toEqual([404, 40400]);
      expect(page.body.message).toContain('npm run build');
      expect(page.headers['content-security-policy']).toBe(CSP);
    });
  });
});
