import { randomBytes } from 'node:crypto';
import { decrypt as wecomDecrypt, getSignature } from '@wecom/crypto';
import type { Test } from 'supertest';
import type { TestApp } from './helpers/app.js';
import { loginAs } from './helpers/auth.js';
import { useStack } from './helpers/stack.js';
import { until } from './helpers/until.js';
import { WechatPusher, newAesKey, toWechatXml, type SignedPush } from './helpers/wechat-pusher.js';

/**
 * The message-push server (/api/v1/wechat/push) against real MariaDB and
 * Redis, fed by a pusher that signs and encrypts as WeChat does.
 */
const PATH = '/api/v1/wechat/push';
const APPID = 'wx-test-appid';
const TOKEN = 'pushToken123';
const AES_KEY = newAesKey();

const post = (app: TestApp, push: SignedPush): Test =>
  app.http.post(PATH).query(push.query).set('content-type', push.contentType).send(push.body);

let seq = 0;
/** A distinct user event (an unknown one: stored and acknowledged, nothing acts on it). */
function event(name = 'user_enter_tempsession', extra: Record<string, unknown> = {}) {
  seq++;
  return {
    ToUserName: 'gh_0123456789ab',
    FromUserName: `o-user-${seq}`,
    CreateTime: 1_700_000_000 + seq,
    MsgType: 'event',
    Event: name,
    ...extra,
  };
}

describe('WeChat push in safe mode', () => {
  const stack = useStack({
    apps: 2,
    env: {
      WECHAT_PUSH_TOKEN: TOKEN,
      WECHAT_PUSH_AES_KEY: AES_KEY,
      LOG_LEVEL: 'info',
      OUTBOX_POLL_MS: '20',
      ADMIN_OPENIDS: 'push-admin',
    },
  });
  const pusher = new WechatPusher({ token: TOKEN, aesKey: AES_KEY, appId: APPID });
  const rows = async () =>
    Number(
      (
        (await stack.db.dataSource.query('SELECT COUNT(*) AS n FROM wechat_push_messages')) as {
          n: number;
        }[]
      )[0].n,
    );
  const outboxOf = async (type: string) =>
    (await stack.db.dataSource.query(
      'SELECT aggregate_id, payload FROM outbox WHERE type = ? ORDER BY id',
      [type],
    )) as { aggregate_id: string; payload: string }[];

  it("seals what @wecom/crypto opens, with WeChat's signature (the pusher is WeChat-exact)", () => {
    const push = pusher.push(event(), { mode: 'safe', format: 'json' });
    const { Encrypt } = JSON.parse(push.body) as { Encrypt: string };
    const opened = wecomDecrypt(AES_KEY, Encrypt);
    expect(opened.id).toBe(APPID);
    expect(JSON.parse(opened.message)).toMatchObject({ MsgType: 'event' });
    expect(push.query.msg_signature).toBe(
      getSignature(TOKEN, push.query.timestamp, push.query.nonce, Encrypt),
    );
  });

  it('answers the URL check with the echostr as text/plain, and 401 to a bad signature', async () => {
    const check = pusher.urlCheck('echo-1616140317555161061');
    const res = await stack.app.http.get(PATH).query(check);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toBe('echo-1616140317555161061');
    const forged = await stack.app.http.get(PATH).query({ ...check, signature: 'f'.repeat(40) });
    expect([forged.status, forged.body.code]).toEqual([401, 40100]);
    expect(forged.text).not.toContain('echo-');
    const stale = pusher.urlCheck('x', Math.floor(Date.now() / 1000) - 600);
    expect((await stack.app.http.get(PATH).query(stale)).status).toBe(401);
  });

  it.each([
    ['safe', 'json'],
    ['safe', 'xml'],
    ['compatible', 'json'],
    ['compatible', 'xml'],
  ] as const)(
    'stores a %s-mode %s message with its outbox event and answers success',
    async (mode, format) => {
      const fields = event('wxa_unknown_thing', { Detail: { Note: `${mode}-${format}` } });
      const before = await rows();
      const res = await post(stack.app, pusher.push(fields, { mode, format }));
      expect([res.status, res.text]).toEqual([200, 'success']);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const [row] = (await stack.db.dataSource.query(
        'SELECT id, name, from_user, payload FROM wechat_push_messages WHERE from_user = ?',
        [fields.FromUserName],
      )) as { id: number; name: string; from_user: string; payload: string }[];
      expect(row.name).toBe('wxa_unknown_thing');
      expect(JSON.parse(row.payload)).toMatchObject({ Detail: { Note: `${mode}-${format}` } });
      expect(await rows()).toBe(before + 1);
      const events = await outboxOf('wechat.push.wxa_unknown_thing');
      const published = events.filter(
        (e) => (JSON.parse(e.payload) as { messageId: number }).messageId === Number(row.id),
      );
      expect(published).toHaveLength(1);
      expect(published[0].aggregate_id).toBe(fields.FromUserName);
    },
  );

  it('stores a repeat once: WeChat retries the same message, encrypted anew', async () => {
    const fields = event('trade_manage_remind_access_api');
    const first = await post(stack.app, pusher.push(fields));
    const again = await post(stack.apps[1], pusher.push(fields, { format: 'json' }));
    expect([first.text, again.text]).toEqual(['success', 'success']);
    const found = (await stack.db.dataSource.query(
      'SELECT id FROM wechat_push_messages WHERE from_user = ?',
      [fields.FromUserName],
    )) as unknown[];
    expect(found).toHaveLength(1);
  });

  it('keeps apart messages that differ only past the sender and the second (two orders settled at once)', async () => {
    const base = event('trade_manage_order_settlement');
    await post(stack.app, pusher.push({ ...base, merchant_trade_no: 'MP0000000001' }));
    await post(stack.app, pusher.push({ ...base, merchant_trade_no: 'MP0000000002' }));
    const found = (await stack.db.dataSource.query(
      'SELECT id FROM wechat_push_messages WHERE from_user = ?',
      [base.FromUserName],
    )) as unknown[];
    expect(found).toHaveLength(2);
  });

  it('dedups a message on its MsgId', async () => {
    const msg = { ...event('x'), MsgType: 'text', Content: 'hi', MsgId: `7${Date.now()}` };
    await post(stack.app, pusher.push(msg));
    await post(stack.app, pusher.push({ ...msg, CreateTime: msg.CreateTime + 1 }));
    const found = (await stack.db.dataSource.query(
      'SELECT name FROM wechat_push_messages WHERE dedup_key = ?',
      [`msg:${msg.MsgId}`],
    )) as { name: string }[];
    expect(found).toEqual([{ name: 'text' }]);
  });

  describe('refuses, storing nothing', () => {
    const refused = async (
      push: SignedPush,
      status: number,
      app: TestApp = stack.app,
    ): Promise<void> => {
      const before = await rows();
      const res = await post(app, push);
      expect(res.status, res.text).toBe(status);
      expect(res.text).not.toBe('success');
      expect(res.body.requestId).toBe(res.headers['x-request-id']);
      expect(await rows()).toBe(before);
    };
    const now = () => Math.floor(Date.now() / 1000);

    it('a forged msg_signature, or none', async () => {
      const push = pusher.push(event());
      await refused({ ...push, query: { ...push.query, msg_signature: 'a'.repeat(40) } }, 401);
      const { msg_signature: _dropped, ...unsigned } = push.query;
      await refused({ ...push, query: unsigned }, 401);
    });

    it('a message signed with another token', async () => {
      const other = new WechatPusher({ token: 'otherToken', aesKey: AES_KEY, appId: APPID });
      await refused(other.push(event()), 401);
    });

    it('a timestamp 5 min or more off, either way (299 s is taken)', async () => {
      await refused(pusher.push(event(), { timestamp: now() - 300 }), 401);
      await refused(pusher.push(event(), { timestamp: now() + 301 }), 401);
      const res = await post(stack.app, pusher.push(event(), { timestamp: now() - 295 }));
      expect(res.text).toBe('success');
    });

    it('a message sealed for another appid', async () => {
      await refused(pusher.push(event(), { appId: 'wx-other-appid' }), 401);
    });

    it('a validly signed but truncated ciphertext', async () => {
      await refused(pusher.push(event(), { tamper: (e) => e.slice(0, 64) }), 401);
      await refused(
        pusher.push(event(), {
          tamper: (e) => Buffer.from(e, 'base64').subarray(0, 32).toString('base64'),
        }),
        401,
      );
    });

    it('a validly signed ciphertext with bad padding', async () => {
      const blocks = Buffer.alloc(64, 7);
      blocks.writeUInt32BE(3, 16);
      blocks[63] = 0;
      await refused(pusher.push(event(), { tamper: () => pusher.encryptBlocks(blocks) }), 401);
      blocks[63] = 40;
      await refused(pusher.push(event(), { tamper: () => pusher.encryptBlocks(blocks) }), 401);
    });

    it('a plaintext message while safe mode is configured (its signature covers no body)', async () => {
      await refused(pusher.push(event(), { mode: 'plain' }), 401);
    });

    it('an oversized body: 413', async () => {
      const big = event('x', { Padding: 'p'.repeat(70 * 1024) });
      await refused(pusher.push(big), 413);
      await refused(pusher.push(event('x', { Padding: 'p'.repeat(300 * 1024) })), 413);
      // Under the body limit, but twice as long once its newlines are JSON (a TEXT column's 64 KiB).
      await refused(
        pusher.push(event('x', { Padding: '\n'.repeat(40_000) }), { format: 'xml' }),
        413,
      );
    });

    it('XML with an external entity, never resolved: 400', async () => {
      const xxe =
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>' +
        '<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName>&x;</FromUserName>' +
        '<CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event>x</Event></xml>';
      const timestamp = String(now());
      const nonce = '12345';
      const Encrypt = pusher.encrypt(xxe);
      const push: SignedPush = {
        query: {
          timestamp,
          nonce,
          encrypt_type: 'aes',
          msg_signature: getSignature(TOKEN, timestamp, nonce, Encrypt),
        },
        body: `<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[${Encrypt}]]></Encrypt></xml>`,
        contentType: 'text/xml',
      };
      const before = await rows();
      const res = await post(stack.app, push);
      expect([res.status, res.body.code]).toEqual([400, 40000]);
      expect(res.text).not.toContain('root:');
      expect(await rows()).toBe(before);
      // The same outside the ciphertext.
      const outer = pusher.push(event(), { format: 'xml' });
      await refused({ ...outer, body: xxe }, 400);
    });

    it('a body that is neither JSON nor XML, and a message without MsgType: 400', async () => {
      const push = pusher.push(event());
      await refused({ ...push, body: 'Encrypt=abc', contentType: 'application/json' }, 400);
      await refused(pusher.push({ ToUserName: 'gh_1', FromUserName: 'o-x', CreateTime: 1 }), 400);
    });

    it('JSON nested 20,000 deep inside a valid ciphertext: 400, not a stack overflow', async () => {
      const deep = `{"MsgType":"event","X":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
      const timestamp = String(now());
      const Encrypt = pusher.encrypt(deep);
      await refused(
        {
          query: {
            timestamp,
            nonce: '777',
            encrypt_type: 'aes',
            msg_signature: getSignature(TOKEN, timestamp, '777', Encrypt),
          },
          body: JSON.stringify({ ToUserName: 'gh_1', Encrypt }),
          contentType: 'application/json',
        },
        400,
      );
    });

    it('never answers 500 to garbage in any field', async () => {
      const push = pusher.push(event());
      for (const query of [
        { ...push.query, timestamp: 'soon' },
        { ...push.query, timestamp: '9'.repeat(40) },
        { ...push.query, nonce: 'x'.repeat(500) },
        { ...push.query, msg_signature: '\u0000' },
        { ...push.query, encrypt_type: 'aes', msg_signature: ['a', 'b'] as unknown as string },
      ]) {
        const res = await post(stack.app, { ...push, query });
        expect([400, 401]).toContain(res.status);
      }
    });
  });

  it('XML bodies are for the push route only: elsewhere 415', async () => {
    const res = await stack.app.http
      .post('/api/v1/auth/login')
      .set('content-type', 'text/xml')
      .send('<xml><code>x</code></xml>');
    expect([res.status, res.body.code]).toEqual([415, 40000]);
  });

  it('takes 1,000 pushes of 100 distinct events at once on two replicas: each stored and published once', async () => {
    for (const app of stack.apps) await app.app.listen(0, '127.0.0.1');
    const bases = stack.apps.map((a) => {
      const address = a.app.getHttpServer().address() as { port: number };
      return `http://127.0.0.1:${address.port}${PATH}`;
    });
    const distinct = Array.from({ length: 100 }, () => event('wxa_burst_probe'));
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const push = pusher.push(distinct[i % 100], { format: i % 2 ? 'json' : 'xml' });
        const url = `${bases[i % 2]}?${new URLSearchParams(push.query).toString()}`;
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': push.contentType },
          body: push.body,
        });
        return [res.status, await res.text()] as const;
      }),
    );
    expect(answers.filter(([status, text]) => status !== 200 || text !== 'success')).toEqual([]);
    // Well within WeChat's 5 s for the whole burst on a shared 2-core machine.
    expect(Date.now() - started).toBeLessThan(20_000);
    const stored = (await stack.db.dataSource.query(
      "SELECT from_user FROM wechat_push_messages WHERE name = 'wxa_burst_probe'",
    )) as { from_user: string }[];
    expect(stored.map((r) => r.from_user).sort()).toEqual(
      distinct.map((d) => d.FromUserName).sort(),
    );
    const published = await outboxOf('wechat.push.wxa_burst_probe');
    expect(published).toHaveLength(100);
    expect(
      new Set(published.map((p) => (JSON.parse(p.payload) as { messageId: number }).messageId))
        .size,
    ).toBe(100);
  }, 60_000);

  it('shows staff what WeChat pushed, newest first, one event at a time, to admins only', async () => {
    const earlier = event('trade_manage_remind_shipping', { merchant_trade_no: 'MP0000000041' });
    const reminder = event('trade_manage_remind_shipping', { merchant_trade_no: 'MP0000000042' });
    expect((await post(stack.app, pusher.push(earlier))).text).toBe('success');
    expect((await post(stack.app, pusher.push(reminder))).text).toBe('success');
    const admin = await loginAs(stack.app, stack.wx, { admin: true });
    const list = (query: Record<string, string | number>, token = admin.accessToken) =>
      stack.app.http
        .get('/api/v1/admin/wechat/push-messages')
        .set('Authorization', `Bearer ${token}`)
        .query(query);
    const reminders = await list({ event: 'trade_manage_remind_shipping', limit: 1 });
    expect(reminders.status).toBe(200);
    const [shown] = reminders.body.data.items as Record<string, unknown>[];
    expect(shown).toMatchObject({
      event: 'trade_manage_remind_shipping',
      msgType: 'event',
      fromUser: reminder.FromUserName,
      createTime: reminder.CreateTime,
    });
    expect(JSON.parse(shown.message as string)).toMatchObject({
      merchant_trade_no: 'MP0000000042',
    });
    // The cursor leads to the earlier reminder.
    const next = await list({
      event: 'trade_manage_remind_shipping',
      limit: 1,
      cursor: reminders.body.data.nextCursor as string,
    });
    expect(next.body.data.items).toHaveLength(1);
    expect(JSON.parse(next.body.data.items[0].message as string)).toMatchObject({
      merchant_trade_no: 'MP0000000041',
    });
    expect(next.body.data.nextCursor).toBeNull();
    const texts = await list({ event: 'text' });
    expect(texts.body.data.items).toEqual([expect.objectContaining({ msgType: 'text' })]);
    const newest = await list({ limit: 1 });
    expect(newest.body.data.items[0].id).toBe(shown.id);
    expect((await list({ event: 'no such-event!' })).status).toBe(400);
    const user = await loginAs(stack.app, stack.wx);
    expect((await list({}, user.accessToken)).status).toBe(403);
  });

  it('counts stored messages and refusals in /metrics, and never logs the token or the key', async () => {
    const metrics = (await stack.app.http.get('/metrics')).text;
    expect(metrics).toMatch(/^wechat_push_messages_total\{event="other"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^wechat_push_refused_total\{reason="signature"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^wechat_push_refused_total\{reason="decrypt"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^wechat_push_refused_total\{reason="timestamp"\} [1-9]\d*$/m);
    for (const app of stack.apps) {
      expect(app.rawLogs()).not.toContain(TOKEN);
      expect(app.rawLogs()).not.toContain(AES_KEY);
    }
    await until(async () => (await outboxOf('wechat.push.wxa_burst_probe')).length === 100, 1000);
  });
});

describe('WeChat push in plaintext mode (token only)', () => {
  const stack = useStack({ env: { WECHAT_PUSH_TOKEN: TOKEN, LOG_LEVEL: 'warn' } });
  const pusher = new WechatPusher({ token: TOKEN, aesKey: AES_KEY, appId: APPID });

  it('takes a JSON and an XML message signed over the query', async () => {
    for (const format of ['json', 'xml'] as const) {
      const res = await post(stack.app, pusher.push(event(), { mode: 'plain', format }));
      expect([res.status, res.text]).toEqual([200, 'success']);
    }
    const n = (await stack.db.dataSource.query(
      'SELECT COUNT(*) AS n FROM wechat_push_messages',
    )) as { n: number }[];
    expect(Number(n[0].n)).toBe(2);
  });

  it('answers 200 or 400 to 300 validly signed bodies of garbage, never 500', async () => {
    const valid = toWechatXml(event());
    const pieces = [
      '<xml>',
      '</xml>',
      '<A>',
      '</A>',
      '<![CDATA[',
      ']]>',
      '&amp;',
      '&',
      '<!--',
      '{',
      '}',
      '"MsgType":',
      '"event"',
      ',',
      '[',
      ']',
      '\u0000',
      '\ud800',
      'é',
      '<!DOCTYPE x>',
    ];
    const statuses = new Set<number>();
    for (let i = 0; i < 300; i++) {
      let body: string;
      if (i % 3 === 0) {
        body = valid.slice(0, Math.floor(Math.random() * valid.length));
      } else if (i % 3 === 1) {
        body = randomBytes(1 + (i % 200)).toString(i % 2 ? 'latin1' : 'utf8');
      } else {
        body = Array.from(
          { length: 1 + (i % 40) },
          () => pieces[Math.floor(Math.random() * pieces.length)],
        ).join('');
      }
      const push = pusher.push(event(), { mode: 'plain', format: i % 2 ? 'xml' : 'json' });
      const res = await post(stack.app, { ...push, body });
      statuses.add(res.status);
      expect([200, 400], `${res.status} for ${JSON.stringify(body)}`).toContain(res.status);
    }
    expect(statuses.has(400)).toBe(true);
  });

  it('refuses a safe-mode message it has no key for, and a bad signature', async () => {
    expect((await post(stack.app, pusher.push(event()))).status).toBe(401);
    const push = pusher.push(event(), { mode: 'plain' });
    const forged = { ...push, query: { ...push.query, signature: '0'.repeat(40) } };
    expect((await post(stack.app, forged)).status).toBe(401);
  });
});

describe('WeChat push without credentials', () => {
  const stack = useStack({ env: { LOG_LEVEL: 'warn' } });
  const pusher = new WechatPusher({ token: TOKEN, aesKey: AES_KEY, appId: APPID });

  it('answers 404 to the URL check and to a message, and stores nothing', async () => {
    const check = await stack.app.http.get(PATH).query(pusher.urlCheck('e'));
    expect([check.status, check.body.code]).toEqual([404, 40400]);
    const res = await post(stack.app, pusher.push(event()));
    expect([res.status, res.body.code]).toEqual([404, 40400]);
    const n = (await stack.db.dataSource.query(
      'SELECT COUNT(*) AS n FROM wechat_push_messages',
    )) as { n: number }[];
    expect(Number(n[0].n)).toBe(0);
  });
});
