import { SandboxWechatClient } from '../src/modules/wechat/index.js';
import { startEmbeddedTestApp, type TestApp } from './helpers/app.js';

// The embedded quick start: no MySQL, no Redis, no WeChat credentials. Sessions
// and the token store run in process and the sandbox WeChat answers logins.
describe('auth in embedded mode (in-process stores, sandbox WeChat)', () => {
  let t: TestApp;
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const login = (code: string) => t.http.post('/api/v1/auth/login').send({ code });

  beforeAll(async () => {
    t = await startEmbeddedTestApp({ NODE_ENV: 'test', LOG_LEVEL: 'info', SHUTDOWN_DRAIN_MS: '0' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('runs without Redis', () => {
    expect(t.redis()).toBeNull();
  });

  it('logs in with any code; the same code is the same user (openid derived from it)', async () => {
    const first = await login('hello');
    expect(first.status).toBe(200);
    expect(first.body.data.user.isNew).toBe(true);
    const again = await login('hello');
    expect(again.body.data.user).toMatchObject({ id: first.body.data.user.id, isNew: false });
    const other = await login('world');
    expect(other.body.data.user.id).not.toBe(first.body.data.user.id);
    expect(SandboxWechatClient.openidFor('hello')).toMatch(/^sandbox_[0-9a-f]{24}$/);
    expect(SandboxWechatClient.openidFor('hello')).toBe(SandboxWechatClient.openidFor('hello'));
  });

  it('serves /users/me, rotates refresh tokens, detects reuse and logs out in process', async () => {
    const { accessToken, refreshToken } = (await login('rotate-me')).body.data;
    expect((await t.http.get('/api/v1/users/me').set(bearer(accessToken))).status).toBe(200);

    const rotated = await t.http.post('/api/v1/auth/refresh').send({ refreshToken });
    expect(rotated.status).toBe(200);
    // Right after its rotation the old token is a repeat (a sibling, a retry),
    // not reuse: it gets the same successor.
    const repeated = await t.http.post('/api/v1/auth/refresh').send({ refreshToken });
    expect(repeated.status).toBe(200);
    expect(repeated.body.data.refreshToken).toBe(rotated.body.data.refreshToken);
    const again = await t.http
      .post('/api/v1/auth/refresh')
      .send({ refreshToken: rotated.body.data.refreshToken });
    expect(again.status).toBe(200);
    // Two rotations old, it is reuse: the whole session goes.
    const reuse = await t.http.post('/api/v1/auth/refresh').send({ refreshToken });
    expect(reuse.body.code).toBe(40102);
    const dead = await t.http.get('/api/v1/users/me').set(bearer(again.body.data.accessToken));
    expect(dead.body.code).toBe(40102);

    const fresh = (await login('rotate-me')).body.data;
    const sessions = await t.http.get('/api/v1/auth/sessions').set(bearer(fresh.accessToken));
    expect(sessions.body.data).toEqual([expect.objectContaining({ current: true })]);
    expect((await t.http.post('/api/v1/auth/logout').set(bearer(fresh.accessToken))).status).toBe(
      200,
    );
    const after = await t.http.get('/api/v1/users/me').set(bearer(fresh.accessToken));
    expect(after.body.code).toBe(40102);
  });

  it('binds a sandbox phone number', async () => {
    const { accessToken } = (await login('phone-user')).body.data;
    const res = await t.http
      .post('/api/v1/auth/phone')
      .set(bearer(accessToken))
      .send({ code: 'any' });
    expect(res.status).toBe(200);
    expect(res.body.data.phone).toMatch(/^139\d{8}$/);
  });

  it('the sandbox refuses to exist in production', () => {
    expect(() => new SandboxWechatClient('production')).toThrow(/embedded quick start only/);
  });
});
