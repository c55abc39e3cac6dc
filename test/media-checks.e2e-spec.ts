import { randomBytes } from 'node:crypto';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { useStack, type Stack } from './helpers/stack.js';
import { until } from './helpers/until.js';
import { WechatPusher, newAesKey } from './helpers/wechat-pusher.js';

/**
 * Avatars through WeChat's asynchronous media check: real MariaDB, Redis and
 * BullMQ, the fake WeChat answering media_check_async with trace_ids, and
 * the verdict pushed to /wechat/push signed and encrypted as WeChat does.
 */
const PATH = '/api/v1/wechat/push';
const TOKEN = 'mediaToken1';
const AES_KEY = newAesKey();
const pusher = new WechatPusher({ token: TOKEN, aesKey: AES_KEY, appId: 'wx-test-appid' });
const pushEnv = { WECHAT_PUSH_TOKEN: TOKEN, WECHAT_PUSH_AES_KEY: AES_KEY, OUTBOX_POLL_MS: '20' };

function helpers(stack: Stack) {
  const as = (u: LoggedIn) => ({ Authorization: `Bearer ${u.accessToken}` });
  const q = (sql: string, params: unknown[] = []) =>
    stack.db.dataSource.query(sql, params) as Promise<Record<string, unknown>[]>;
  /** Sets the user's avatar through PUT /users/me; the URL WeChat was asked to check. */
  async function setAvatar(user: LoggedIn, method: 'put' | 'patch' = 'put'): Promise<string> {
    const url = `https://cdn.example.com/avatars/${randomBytes(6).toString('hex')}.png`;
    const res = await stack.app.http[method]('/api/v1/users/me')
      .set(as(user))
      .send({ avatarUrl: url });
    expect(res.status).toBe(200);
    return url;
  }
  const requestsFor = (url: string) => stack.wx.mediaChecks.filter((c) => c.body.media_url === url);
  const traceOf = async (url: string) =>
    (await until(async () => requestsFor(url).at(-1), 10_000)).traceId;
  async function verdict(user: LoggedIn, traceId: string, suggest: string, createTime?: number) {
    const push = pusher.push(
      {
        ToUserName: 'gh_test',
        FromUserName: user.openid,
        CreateTime: createTime ?? Math.floor(Date.now() / 1000),
        MsgType: 'event',
        Event: 'wxa_media_check',
        appid: 'wx-test-appid',
        trace_id: traceId,
        version: 2,
        detail: [{ strategy: 'content_model', errcode: 0, suggest, label: 20002, prob: 90 }],
        errcode: 0,
        errmsg: 'ok',
        result: { suggest, label: 20002 },
      },
      { format: 'json' },
    );
    const res = await stack.app.http
      .post(PATH)
      .query(push.query)
      .set('content-type', push.contentType)
      .send(push.body);
    expect(res.status).toBe(200);
  }
  const checkOf = async (url: string) =>
    (await q('SELECT status, attempts, trace_id FROM media_checks WHERE url = ?', [url]))[0];
  const avatarOf = async (user: LoggedIn) =>
    (await stack.app.http.get('/api/v1/users/me').set(as(user))).body.data.avatarUrl as
      string | null;
  const flagsOf = (user: LoggedIn) =>
    q(
      "SELECT reason, content, label FROM content_flags WHERE kind = 'avatar' AND ref_id = ? ORDER BY id",
      [user.user.id],
    );
  const settled = (url: string) =>
    until(async () => (await checkOf(url))?.status !== 'pending' && checkOf(url), 10_000);
  return { as, q, setAvatar, requestsFor, traceOf, verdict, checkOf, avatarOf, flagsOf, settled };
}

describe('avatar media checks (media_check_async + wxa_media_check)', () => {
  const stack = useStack({ env: { ...pushEnv, LOG_LEVEL: 'error', ADMIN_OPENIDS: 'media-admin' } });
  const h = helpers(stack);
  let user: LoggedIn;
  beforeEach(async () => {
    user = await loginAs(stack.app, stack.wx);
  });

  it('asks WeChat once per stored avatar: media_type 2, version 2, scene 1, the user\u2019s openid', async () => {
    const url = await h.setAvatar(user, 'patch');
    await h.traceOf(url);
    // The attempt is recorded after WeChat's answer, which the fake has sent by now.
    const check = await until(
      async () => (await h.checkOf(url))?.attempts === 1 && h.checkOf(url),
      10_000,
    );
    expect(check).toMatchObject({ status: 'pending', attempts: 1 });
    expect(h.requestsFor(url).map((r) => r.body)).toEqual([
      { media_url: url, media_type: 2, version: 2, openid: user.openid, scene: 1 },
    ]);
  });

  it('risky: the avatar is removed and flagged for staff, once however often WeChat repeats', async () => {
    const url = await h.setAvatar(user);
    const trace = await h.traceOf(url);
    const now = Math.floor(Date.now() / 1000);
    await h.verdict(user, trace, 'risky', now);
    await h.settled(url);
    // WeChat repeats the verdict (another message: a later CreateTime).
    await h.verdict(user, trace, 'risky', now + 1);
    await until(
      async () =>
        (
          await h.q(
            "SELECT COUNT(*) AS n FROM outbox o JOIN processed_events p ON p.event_id = o.id AND p.consumer = 'users.avatar-verdict' WHERE o.type = 'wechat.push.wxa_media_check' AND o.payload LIKE ?",
            [`%${trace}%`],
          )
        )[0].n === '2',
      10_000,
    );
    expect(await h.avatarOf(user)).toBeNull();
    expect(await h.checkOf(url)).toMatchObject({ status: 'risky' });
    expect(await h.flagsOf(user)).toEqual([{ reason: 'risky', content: url, label: 20002 }]);
    const listed = await stack.app.http
      .get('/api/v1/admin/content-flags')
      .set(h.as(await loginAs(stack.app, stack.wx, { admin: true })));
    expect(listed.status).toBe(200);
    expect(listed.body.data.items).toContainEqual(
      expect.objectContaining({
        kind: 'avatar',
        reason: 'risky',
        refId: user.user.id,
        content: url,
      }),
    );
  });

  it('review: flagged, the avatar stays', async () => {
    const url = await h.setAvatar(user);
    await h.verdict(user, await h.traceOf(url), 'review');
    expect(await h.settled(url)).toMatchObject({ status: 'review' });
    expect(await h.avatarOf(user)).toBe(url);
    expect(await h.flagsOf(user)).toEqual([{ reason: 'review', content: url, label: 20002 }]);
  });

  it('pass: the check closes, nothing is flagged', async () => {
    const url = await h.setAvatar(user);
    await h.verdict(user, await h.traceOf(url), 'pass');
    expect(await h.settled(url)).toMatchObject({ status: 'pass' });
    expect(await h.avatarOf(user)).toBe(url);
    expect(await h.flagsOf(user)).toEqual([]);
  });

  it('risky for an avatar changed since: the new one stays, the old URL is flagged', async () => {
    const old = await h.setAvatar(user);
    const trace = await h.traceOf(old);
    const current = await h.setAvatar(user);
    await h.verdict(user, trace, 'risky');
    expect(await h.settled(old)).toMatchObject({ status: 'risky' });
    expect(await h.avatarOf(user)).toBe(current);
    expect(await h.flagsOf(user)).toEqual([{ reason: 'risky', content: old, label: 20002 }]);
  });

  it('a verdict for an unknown trace_id is stored and changes nothing', async () => {
    const url = await h.setAvatar(user);
    await h.traceOf(url);
    const unknown = `unknown-${randomBytes(6).toString('hex')}`;
    await h.verdict(user, unknown, 'risky');
    const stored = await until(
      async () =>
        (
          await h.q(
            "SELECT id FROM wechat_push_messages WHERE name = 'wxa_media_check' AND payload LIKE ?",
            [`%${unknown}%`],
          )
        )[0],
      10_000,
    );
    expect(stored).toBeDefined();
    await until(
      async () =>
        (
          await h.q(
            "SELECT COUNT(*) AS n FROM outbox o JOIN processed_events p ON p.event_id = o.id AND p.consumer = 'users.avatar-verdict' WHERE o.type = 'wechat.push.wxa_media_check' AND o.payload LIKE ?",
            [`%${unknown}%`],
          )
        )[0].n === '1',
      10_000,
    );
    expect(await h.avatarOf(user)).toBe(url);
    expect(await h.checkOf(url)).toMatchObject({ status: 'pending' });
    expect(await h.flagsOf(user)).toEqual([]);
  });

  it('45009 (quota) and -1 (busy): the request is retried until WeChat takes it', async () => {
    stack.wx.mediaCheckErrcodes.push(45009, -1);
    const before = stack.wx.counts.mediaCheck;
    const url = await h.setAvatar(user);
    await until(async () => h.requestsFor(url).length === 1, 30_000);
    expect(stack.wx.counts.mediaCheck - before).toBe(3);
    // WeChat has the request; the attempt is written once its answer is back.
    const check = await until(async () => {
      const row = await h.checkOf(url);
      return row?.attempts === 1 && row;
    }, 10_000);
    expect(check).toMatchObject({ status: 'pending', attempts: 1 });
    expect(stack.wx.counts.mediaCheck - before).toBe(3);
  });
});

describe('avatar media checks whose verdict never comes', () => {
  const stack = useStack({
    env: {
      ...pushEnv,
      LOG_LEVEL: 'error',
      MEDIA_CHECK_RETRY_AFTER_S: '1',
      MEDIA_CHECK_MAX_ATTEMPTS: '2',
    },
  });
  const h = helpers(stack);

  it('are requested again after MEDIA_CHECK_RETRY_AFTER_S, then flagged unchecked after the last attempt', async () => {
    const user = await loginAs(stack.app, stack.wx);
    const url = await h.setAvatar(user);
    const first = await h.traceOf(url);
    await until(async () => h.requestsFor(url).length === 2, 15_000);
    const second = h.requestsFor(url)[1].traceId;
    expect(second).not.toBe(first);
    expect(await h.settled(url)).toMatchObject({ status: 'unchecked', attempts: 2 });
    expect(h.requestsFor(url)).toHaveLength(2);
    expect(await h.flagsOf(user)).toEqual([{ reason: 'unchecked', content: url, label: null }]);
    expect(await h.avatarOf(user)).toBe(url);
  });
});
