import { randomBytes } from 'node:crypto';
import type { Response } from 'superagent';
import { SandboxWechatClient } from '../src/modules/wechat/index.js';
import { startEmbeddedTestApp, type TestApp } from './helpers/app.js';
import { encryptProfile, loginAs, type LoggedIn } from './helpers/auth.js';
import { useStack, type Stack } from './helpers/stack.js';

const ADMIN = 'platform-admin-openid';
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const GREY_AVATAR =
  'https://thirdwx.qlogo.cn/mmopen/vi_32/POgEwh4mIHO4nibH0KlMECNjjGxQUq24ZEaGT4poC6icRiccVGKSyXwibcPq4BWmiaIGuG1icwxaQX6grC9VemZoJ8rg/132';
const bearer = (user: { accessToken: string }) => ({ Authorization: `Bearer ${user.accessToken}` });
const newKey = () => `k-${randomBytes(8).toString('hex')}`;

/** Binary answers as a Buffer (supertest leaves images unparsed otherwise). */
function binary(res: Response, done: (err: Error | null, body: Buffer) => void) {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => done(null, Buffer.concat(chunks)));
}

async function flagsOf(stack: Stack, sql: string, params: unknown[]) {
  return (await stack.db.dataSource.query(sql, params)) as Record<string, unknown>[];
}

describe('content security (msg_sec_check v2) on nicknames and remarks, fail-open', () => {
  const stack = useStack({ env: { ADMIN_OPENIDS: ADMIN, WECHAT_TIMEOUT_MS: '300' } });
  let admin: LoggedIn;
  beforeAll(async () => {
    admin = await loginAs(stack.app, stack.wx, { admin: true });
    stack.wx.riskyWords.add('badword');
    stack.wx.reviewWords.add('doubtful');
  });
  const putMe = (user: LoggedIn, body: object) =>
    stack.app.http.put('/api/v1/users/me').set(bearer(user)).send(body);
  const nicknameOf = async (id: number) =>
    (await stack.db.dataSource.query('SELECT nickname FROM users WHERE id = ?', [id]))[0].nickname;
  const flagsFor = (kind: string, refId: number) =>
    flagsOf(stack, 'SELECT * FROM content_flags WHERE kind = ? AND ref_id = ?', [kind, refId]);

  it('PUT /users/me sets either field and leaves the other; PATCH is the same route', async () => {
    const u = await loginAs(stack.app, stack.wx);
    const avatarUrl = 'https://cdn.example.com/a/1.png';
    expect((await putMe(u, { nickname: 'first', avatarUrl })).status).toBe(200);
    const renamed = await putMe(u, { nickname: 'second' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.data).toMatchObject({ nickname: 'second', avatarUrl });
    const patched = await stack.app.http
      .patch('/api/v1/users/me')
      .set(bearer(u))
      .send({ avatarUrl: 'https://cdn.example.com/a/2.png' });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({
      nickname: 'second',
      avatarUrl: 'https://cdn.example.com/a/2.png',
    });
    const me = await stack.app.http.get('/api/v1/users/me').set(bearer(u));
    expect(me.body.data).toMatchObject({
      nickname: 'second',
      avatarUrl: 'https://cdn.example.com/a/2.png',
    });
  });

  it('passes: stored, not flagged; WeChat got version 2, openid, scene 1 and the text', async () => {
    const u = await loginAs(stack.app, stack.wx);
    const res = await putMe(u, { nickname: '绿茶' });
    expect(res.status).toBe(200);
    expect(res.body.data.nickname).toBe('绿茶');
    expect(stack.wx.secChecks.at(-1)).toEqual({
      version: 2,
      openid: u.openid,
      scene: 1,
      content: '绿茶',
    });
    expect(await flagsFor('nickname', u.user.id)).toEqual([]);
  });

  it('risky: 422/42201 and nothing stored', async () => {
    const u = await loginAs(stack.app, stack.wx);
    await putMe(u, { nickname: 'before' });
    const res = await putMe(u, { nickname: 'a badword here' });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe(42201);
    expect(await nicknameOf(u.user.id)).toBe('before');
    expect(await flagsFor('nickname', u.user.id)).toEqual([]);
    const me = await stack.app.http.get('/api/v1/users/me').set(bearer(u));
    expect(me.body.data.nickname).toBe('before');
  });

  it('review: stored and flagged for admins with WeChat label', async () => {
    const u = await loginAs(stack.app, stack.wx);
    const res = await putMe(u, { nickname: 'doubtful name' });
    expect(res.status).toBe(200);
    expect(await nicknameOf(u.user.id)).toBe('doubtful name');
    expect(await flagsFor('nickname', u.user.id)).toEqual([
      expect.objectContaining({
        user_id: u.user.id,
        content: 'doubtful name',
        reason: 'review',
        label: 21000,
        status: 'open',
      }),
    ]);
  });

  it.each([
    [
      'an outage (HTTP 503)',
      () => stack.wx.outage.add('secCheck'),
      () => stack.wx.outage.delete('secCheck'),
    ],
    [
      'errcode 61010 (user not seen lately)',
      () => (stack.wx.secCheckErrcode = 61010),
      () => (stack.wx.secCheckErrcode = undefined),
    ],
    [
      'errcode -1',
      () => (stack.wx.secCheckErrcode = -1),
      () => (stack.wx.secCheckErrcode = undefined),
    ],
  ])('WeChat cannot answer (%s): stored and flagged unchecked', async (_label, fail, heal) => {
    const u = await loginAs(stack.app, stack.wx);
    fail();
    try {
      const res = await putMe(u, { nickname: 'unseen' });
      expect(res.status).toBe(200);
    } finally {
      heal();
    }
    expect(await nicknameOf(u.user.id)).toBe('unseen');
    expect(await flagsFor('nickname', u.user.id)).toEqual([
      expect.objectContaining({ reason: 'unchecked', label: null, status: 'open' }),
    ]);
  });

  it('a dead access_token on msg_sec_check is refreshed and the check retried once', async () => {
    const u = await loginAs(stack.app, stack.wx);
    await putMe(u, { nickname: 'warm' });
    stack.wx.invalidateAccessToken(42001);
    const calls = stack.wx.counts.secCheck;
    const res = await putMe(u, { nickname: 'fresh' });
    expect(res.status).toBe(200);
    expect(stack.wx.counts.secCheck - calls).toBe(2);
    expect(await flagsFor('nickname', u.user.id)).toEqual([]);
  });

  it('text that cannot be sent is a 400 before WeChat is asked', async () => {
    const u = await loginAs(stack.app, stack.wx);
    const calls = stack.wx.counts.secCheck;
    const res = await stack.app.http
      .patch('/api/v1/users/me')
      .set(bearer(u))
      .set('content-type', 'application/json')
      .send('{"nickname":"tea\\ud800"}');
    expect(res.status).toBe(400);
    expect(res.body.data.errors).toEqual([expect.objectContaining({ field: 'nickname' })]);
    expect(stack.wx.counts.secCheck).toBe(calls);
  });

  describe('order remarks', () => {
    let product: number;
    beforeAll(async () => {
      const res = await stack.app.http
        .post('/api/v1/admin/products')
        .set(bearer(admin))
        .send({ name: 'Pu-erh', priceCents: 500, stock: 100 });
      product = res.body.data.id;
    });
    const place = (u: LoggedIn, remark?: string) =>
      stack.app.http
        .post('/api/v1/orders')
        .set(bearer(u))
        .set('Idempotency-Key', newKey())
        .send({
          items: [{ productId: product, quantity: 1 }],
          ...(remark === undefined ? {} : { remark }),
        });
    const stock = async () =>
      Number(
        (await stack.db.dataSource.query('SELECT stock FROM products WHERE id = ?', [product]))[0]
          .stock,
      );
    const ordersOf = async (userId: number) =>
      Number(
        (
          await stack.db.dataSource.query('SELECT COUNT(*) AS n FROM orders WHERE user_id = ?', [
            userId,
          ])
        )[0].n,
      );

    it('a risky remark: 422/42201, no order, stock untouched', async () => {
      const u = await loginAs(stack.app, stack.wx);
      const before = await stock();
      const res = await place(u, 'badword please');
      expect(res.status).toBe(422);
      expect(res.body.code).toBe(42201);
      expect(await ordersOf(u.user.id)).toBe(0);
      expect(await stock()).toBe(before);
    });

    it('a remark to review: the order and its flag commit together; scene 2', async () => {
      const u = await loginAs(stack.app, stack.wx);
      const res = await place(u, 'doubtful remark');
      expect(res.status).toBe(201);
      expect(stack.wx.secChecks.at(-1)).toMatchObject({
        scene: 2,
        openid: u.openid,
        content: 'doubtful remark',
      });
      expect(await flagsFor('order_remark', res.body.data.id)).toEqual([
        expect.objectContaining({
          user_id: u.user.id,
          content: 'doubtful remark',
          reason: 'review',
        }),
      ]);
    });

    it('a passing remark is stored unflagged; no remark, no check', async () => {
      const u = await loginAs(stack.app, stack.wx);
      const ok = await place(u, 'leave at the door');
      expect(ok.status).toBe(201);
      expect(await flagsFor('order_remark', ok.body.data.id)).toEqual([]);
      const calls = stack.wx.counts.secCheck;
      expect((await place(u)).status).toBe(201);
      expect(stack.wx.counts.secCheck).toBe(calls);
    });
  });

  describe('admin: GET /admin/content-flags and POST /admin/content-flags/:id/clear', () => {
    const list = (query = '') =>
      stack.app.http.get(`/api/v1/admin/content-flags${query}`).set(bearer(admin));

    it('lists open flags newest first, pages with a cursor, and clears one', async () => {
      const u = await loginAs(stack.app, stack.wx);
      for (const n of ['doubtful 1', 'doubtful 2', 'doubtful 3'])
        expect((await putMe(u, { nickname: n })).status).toBe(200);
      const first = await list('?limit=2');
      expect(first.status).toBe(200);
      expect(first.body.data.items).toHaveLength(2);
      expect(first.body.data.items.map((f: { content: string }) => f.content)).toEqual([
        'doubtful 3',
        'doubtful 2',
      ]);
      expect(Object.keys(first.body.data.items[0]).sort()).toEqual([
        'clearedBy',
        'content',
        'createdAt',
        'id',
        'kind',
        'label',
        'reason',
        'refId',
        'status',
        'updatedAt',
        'userId',
      ]);
      const next = await list(`?limit=2&cursor=${first.body.data.nextCursor}`);
      expect(next.body.data.items[0].content).toBe('doubtful 1');

      const id = first.body.data.items[0].id;
      const cleared = await stack.app.http
        .post(`/api/v1/admin/content-flags/${id}/clear`)
        .set(bearer(admin));
      expect(cleared.status).toBe(200);
      expect(cleared.body.data).toMatchObject({ id, status: 'cleared', clearedBy: admin.user.id });
      const open = await list('?limit=100');
      expect(open.body.data.items.map((f: { id: number }) => f.id)).not.toContain(id);
      const done = await list('?status=cleared');
      expect(done.body.data.items.map((f: { id: number }) => f.id)).toContain(id);

      const again = await stack.app.http
        .post(`/api/v1/admin/content-flags/${id}/clear`)
        .set(bearer(admin));
      expect(again.status).toBe(409);
    });

    it('answers 404 for an unknown flag, 400 for a bad id or status, 403 for a user', async () => {
      expect(
        (await stack.app.http.post('/api/v1/admin/content-flags/99999999/clear').set(bearer(admin)))
          .status,
      ).toBe(404);
      expect(
        (await stack.app.http.post('/api/v1/admin/content-flags/abc/clear').set(bearer(admin)))
          .status,
      ).toBe(400);
      expect((await list('?status=all')).status).toBe(400);
      const u = await loginAs(stack.app, stack.wx);
      const denied = await stack.app.http.get('/api/v1/admin/content-flags').set(bearer(u));
      expect(denied.status).toBe(403);
    });
  });
});

describe('content security with CONTENT_CHECK_FAIL_OPEN=false', () => {
  const stack = useStack({ env: { CONTENT_CHECK_FAIL_OPEN: 'false', WECHAT_TIMEOUT_MS: '300' } });

  it('WeChat cannot answer: 502/50200 and nothing stored, no flag', async () => {
    const u = await loginAs(stack.app, stack.wx);
    stack.wx.outage.add('secCheck');
    try {
      const res = await stack.app.http
        .patch('/api/v1/users/me')
        .set(bearer(u))
        .send({ nickname: 'closed' });
      expect(res.status).toBe(502);
      expect(res.body.code).toBe(50200);
    } finally {
      stack.wx.outage.delete('secCheck');
    }
    const [row] = await stack.db.dataSource.query('SELECT nickname FROM users WHERE id = ?', [
      u.user.id,
    ]);
    expect(row.nickname).toBe('');
    expect(await flagsOf(stack, 'SELECT id FROM content_flags', [])).toEqual([]);
  });
});

describe('GET /wxacode (getwxacodeunlimit)', () => {
  const stack = useStack({ env: { WECHAT_TIMEOUT_MS: '300' } });
  let u: LoggedIn;
  beforeAll(async () => {
    u = await loginAs(stack.app, stack.wx);
  });
  const get = (query: string) =>
    stack.app.http.get(`/api/v1/wxacode${query}`).set(bearer(u)).buffer(true).parse(binary);

  it('answers the PNG, then serves the same parameters from the cache (L2 in Redis)', async () => {
    const calls = stack.wx.counts.wxacode;
    const res = await get('?scene=id%3D42&page=pages/index/index&width=300');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect((res.body as Buffer).subarray(0, 8)).toEqual(PNG);
    expect(stack.wx.wxacodes.at(-1)).toEqual({
      scene: 'id=42',
      page: 'pages/index/index',
      width: 300,
      check_path: true,
    });
    const again = await get('?scene=id%3D42&page=pages/index/index&width=300');
    expect(again.body).toEqual(res.body);
    expect(stack.wx.counts.wxacode - calls).toBe(1);
    const prefix = stack.app.config.redis!.keyPrefix;
    expect(await stack.app.redis()!.keys(`${prefix}c:wxacode:*`)).toHaveLength(1);
    const other = await get('?scene=id%3D43&page=pages/index/index&width=300');
    expect(other.body).not.toEqual(res.body);
    expect(stack.wx.counts.wxacode - calls).toBe(2);
  });

  it.each([
    ['no scene', ''],
    ['an empty scene', '?scene='],
    ['a scene over 32 characters', `?scene=${'a'.repeat(33)}`],
    ['a scene with a character WeChat refuses', '?scene=a%25b'],
    ['a non-ASCII scene', `?scene=${encodeURIComponent('茶')}`],
    ['a page with a leading slash', '?scene=x&page=/pages/index/index'],
    ['a page with a query', `?scene=x&page=${encodeURIComponent('pages/index/index?a=1')}`],
    ['a width under 280', '?scene=x&width=100'],
    ['a width that is not a number', '?scene=x&width=big'],
    ['an unknown parameter', '?scene=x&env_version=trial'],
  ])('answers 400/40000 for %s without calling WeChat', async (_label, query) => {
    const calls = stack.wx.counts.wxacode;
    const res = await stack.app.http.get(`/api/v1/wxacode${query}`).set(bearer(u));
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.code).toBe(40000);
    expect(stack.wx.counts.wxacode).toBe(calls);
  });

  it('a page WeChat does not know (41030, a JSON answer): 400 on page, not cached', async () => {
    const calls = stack.wx.counts.wxacode;
    for (let i = 0; i < 2; i++) {
      const res = await stack.app.http
        .get('/api/v1/wxacode?scene=x&page=pages/missing/missing')
        .set(bearer(u));
      expect(res.status).toBe(400);
      expect(res.body.data.errors).toEqual([expect.objectContaining({ field: 'page' })]);
    }
    expect(stack.wx.counts.wxacode - calls).toBe(2);
  });

  it('WeChat down: 502/50200 in the envelope', async () => {
    stack.wx.outage.add('wxacode');
    try {
      const res = await stack.app.http.get('/api/v1/wxacode?scene=down').set(bearer(u));
      expect(res.status).toBe(502);
      expect(res.body.code).toBe(50200);
    } finally {
      stack.wx.outage.delete('wxacode');
    }
  });

  it('needs a token', async () => {
    expect((await stack.app.http.get('/api/v1/wxacode?scene=x')).status).toBe(401);
  });
});

describe('the "微信用户" placeholder profile', () => {
  const stack = useStack();
  const loginWithProfile = (openid: string | undefined, nickName: string, avatarUrl: string) => {
    const issued = stack.wx.issueCode({ openid });
    const enc = encryptProfile(issued.sessionKey, {
      nickName,
      avatarUrl,
      watermark: { appid: stack.wx.appid },
    });
    return stack.app.http.post('/api/v1/auth/login').send({ code: issued.code, ...enc });
  };

  it('a new user with the placeholder gets an empty profile, not "微信用户" and the grey avatar', async () => {
    const res = await loginWithProfile(undefined, '微信用户', GREY_AVATAR);
    expect(res.status).toBe(200);
    expect(res.body.data.user).toMatchObject({ nickname: '', avatarUrl: null, isNew: true });
  });

  it('never overwrites a profile the user set', async () => {
    const u = await loginAs(stack.app, stack.wx);
    const set = await stack.app.http
      .patch('/api/v1/users/me')
      .set(bearer(u))
      .send({ nickname: '茶客', avatarUrl: 'https://cdn.example.com/me.png' });
    expect(set.status).toBe(200);
    const res = await loginWithProfile(u.openid, '微信用户', GREY_AVATAR);
    expect(res.body.data.user).toMatchObject({
      nickname: '茶客',
      avatarUrl: 'https://cdn.example.com/me.png',
    });
  });

  it.each([
    ['the placeholder nickname', { nickname: '微信用户' }, 'nickname', /placeholder/],
    [
      'a chooseAvatar temporary path',
      { avatarUrl: 'wxfile://tmp_a1b2.jpg' },
      'avatarUrl',
      /upload/,
    ],
    ['a chooseAvatar http://tmp path', { avatarUrl: 'http://tmp/a1b2.jpg' }, 'avatarUrl', /upload/],
  ])(
    'PATCH refuses %s with 400 and a message that says what to send',
    async (_label, body, field, message) => {
      const u = await loginAs(stack.app, stack.wx);
      const res = await stack.app.http.patch('/api/v1/users/me').set(bearer(u)).send(body);
      expect(res.status).toBe(400);
      expect(res.body.data.errors).toEqual([{ field, message: expect.stringMatching(message) }]);
    },
  );
});

describe('the platform APIs in embedded mode (sandbox WeChat)', () => {
  let t: TestApp;
  const login = async (code: string) =>
    (await t.http.post('/api/v1/auth/login').send({ code })).body.data;

  beforeAll(async () => {
    t = await startEmbeddedTestApp({
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      SHUTDOWN_DRAIN_MS: '0',
      ADMIN_OPENIDS: SandboxWechatClient.openidFor('sandbox-admin'),
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('checks nicknames with the sandbox: [risky] refused, [review] stored and listed for admins', async () => {
    const user = await login('sandbox-user');
    const admin = await login('sandbox-admin');
    const risky = await t.http
      .patch('/api/v1/users/me')
      .set(bearer(user))
      .send({ nickname: 'x [risky]' });
    expect(risky.status).toBe(422);
    expect(risky.body.code).toBe(42201);
    const review = await t.http
      .patch('/api/v1/users/me')
      .set(bearer(user))
      .send({ nickname: 'x [review]' });
    expect(review.status).toBe(200);
    const flags = await t.http.get('/api/v1/admin/content-flags').set(bearer(admin));
    expect(flags.body.data.items).toEqual([
      expect.objectContaining({
        kind: 'nickname',
        refId: user.user.id,
        content: 'x [review]',
        reason: 'review',
      }),
    ]);
  });

  it('draws a PNG mini-program code', async () => {
    const user = await login('sandbox-poster');
    const res = await t.http
      .get('/api/v1/wxacode?scene=p%3D1&width=280')
      .set(bearer(user))
      .buffer(true)
      .parse(binary);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect((res.body as Buffer).subarray(0, 8)).toEqual(PNG);
  });
});
