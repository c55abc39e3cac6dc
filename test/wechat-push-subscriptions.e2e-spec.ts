import type { TestApp } from './helpers/app.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { useStack } from './helpers/stack.js';
import { until } from './helpers/until.js';
import { WechatPusher, newAesKey, type SignedPush } from './helpers/wechat-pusher.js';

/**
 * Subscribe-message credits from WeChat's own events, pushed to
 * /wechat/push: real MariaDB, Redis and BullMQ, two replicas.
 */
const PATH = '/api/v1/wechat/push';
const TOKEN = 'creditsToken1';
const AES_KEY = newAesKey();
const QUEUE = 'notifications.wechat-subscriptions';
const TPL = { paid: 'tplPushPaid_0001', shipped: 'tplPushShipped_02' };

describe('subscribe_msg_* events and the credits', () => {
  const stack = useStack({
    apps: 2,
    env: {
      WECHAT_PUSH_TOKEN: TOKEN,
      WECHAT_PUSH_AES_KEY: AES_KEY,
      WECHAT_SUBSCRIBE_TEMPLATE_ORDER_PAID: TPL.paid,
      WECHAT_SUBSCRIBE_FIELDS_ORDER_PAID: 'thing1=productName',
      WECHAT_SUBSCRIBE_TEMPLATE_ORDER_SHIPPED: TPL.shipped,
      WECHAT_SUBSCRIBE_FIELDS_ORDER_SHIPPED: 'thing1=carrier',
      OUTBOX_POLL_MS: '20',
      LOG_LEVEL: 'warn',
    },
  });
  const pusher = new WechatPusher({ token: TOKEN, aesKey: AES_KEY, appId: 'wx-test-appid' });
  const post = (app: TestApp, push: SignedPush) =>
    app.http.post(PATH).query(push.query).set('content-type', push.contentType).send(push.body);
  const q = (sql: string, params: unknown[] = []) =>
    stack.db.dataSource.query(sql, params) as Promise<Record<string, unknown>[]>;

  let seq = 0;
  const message = (user: LoggedIn, event: string, list: Record<string, unknown>) => ({
    ToUserName: 'gh_0123456789ab',
    FromUserName: user.openid,
    CreateTime: 1_700_000_000 + ++seq,
    MsgType: 'event',
    Event: event,
    ...list,
  });
  /** JSON carries `List` at the top; XML inside the event's own element. */
  const popup = (user: LoggedIn, items: Record<string, unknown>[], format: 'json' | 'xml') =>
    format === 'json'
      ? message(user, 'subscribe_msg_popup_event', {
          List: items.length === 1 ? items[0] : items,
        })
      : message(user, 'subscribe_msg_popup_event', {
          SubscribeMsgPopupEvent: { List: items },
        });

  const credits = async (user: LoggedIn, templateId: string) => {
    const rows = await q(
      'SELECT c.credits FROM subscribe_credits c JOIN users u ON u.id = c.user_id WHERE u.openid = ? AND c.template_id = ?',
      [user.openid, templateId],
    );
    return rows.length === 0 ? 0 : Number(rows[0].credits);
  };
  const drained = (timeoutMs = 20_000) =>
    until(async () => {
      const [row] = await q(
        `SELECT COUNT(*) AS n FROM outbox o WHERE o.type LIKE 'wechat.push.subscribe_msg_%'
           AND NOT EXISTS (SELECT 1 FROM processed_events p WHERE p.consumer = ? AND p.event_id = o.id)`,
        [QUEUE],
      );
      return Number(row.n) === 0;
    }, timeoutMs);
  async function pushAll(...messages: Record<string, unknown>[]) {
    for (const [i, m] of messages.entries()) {
      const res = await post(stack.apps[i % 2], pusher.push(m, { format: i % 2 ? 'xml' : 'json' }));
      expect(res.text).toBe('success');
    }
    await drained();
  }

  let user: LoggedIn;
  beforeAll(async () => {
    user = await loginAs(stack.app, stack.wx);
  });

  it('an acceptance in the popup adds a credit, as WeChat says, not the client', async () => {
    await pushAll(
      popup(
        user,
        [{ TemplateId: TPL.paid, SubscribeStatusString: 'accept', PopupScene: 0 }],
        'json',
      ),
    );
    expect(await credits(user, TPL.paid)).toBe(1);
  });

  it('a popup of two templates in XML: the accepted one gains, the rejected one loses all', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await stack.app.http
        .post('/api/v1/users/me/subscriptions')
        .set('Authorization', `Bearer ${user.accessToken}`)
        .send({ accepted: [TPL.shipped] });
      expect(res.status).toBe(200);
    }
    expect(await credits(user, TPL.shipped)).toBe(2);
    await pushAll(
      popup(
        user,
        [
          { TemplateId: TPL.paid, SubscribeStatusString: 'accept', PopupScene: 0 },
          { TemplateId: TPL.shipped, SubscribeStatusString: 'reject', PopupScene: 0 },
        ],
        'xml',
      ),
    );
    expect([await credits(user, TPL.paid), await credits(user, TPL.shipped)]).toEqual([2, 0]);
  });

  it('a refusal later in the settings removes the credits; a ban too', async () => {
    await pushAll(
      message(user, 'subscribe_msg_change_event', {
        List: [{ TemplateId: TPL.paid, SubscribeStatusString: 'reject' }],
      }),
    );
    expect(await credits(user, TPL.paid)).toBe(0);
    await pushAll(
      popup(user, [{ TemplateId: TPL.paid, SubscribeStatusString: 'accept' }], 'json'),
      popup(user, [{ TemplateId: TPL.shipped, SubscribeStatusString: 'accept' }], 'json'),
      popup(user, [{ TemplateId: TPL.shipped, SubscribeStatusString: 'ban' }], 'json'),
    );
    expect([await credits(user, TPL.paid), await credits(user, TPL.shipped)]).toEqual([1, 0]);
  });

  it('a send WeChat reports failed returns its credit; a delivered one does not', async () => {
    const before = await credits(user, TPL.paid);
    await pushAll(
      message(user, 'subscribe_msg_sent_event', {
        SubscribeMsgSentEvent: {
          List: {
            TemplateId: TPL.paid,
            MsgID: '1700827132819554304',
            ErrorCode: 10005,
            ErrorStatus: 'fail:user refuse to accept the msg',
          },
        },
      }),
      message(user, 'subscribe_msg_sent_event', {
        List: {
          TemplateId: TPL.paid,
          MsgID: '1700827132819554305',
          ErrorCode: 0,
          ErrorStatus: 'success',
        },
      }),
    );
    expect(await credits(user, TPL.paid)).toBe(before + 1);
  });

  it('ignores templates not configured and users it does not know', async () => {
    const stranger = { ...user, openid: 'o-never-logged-in' };
    await pushAll(
      popup(user, [{ TemplateId: 'tplNotOurs_999', SubscribeStatusString: 'accept' }], 'json'),
      popup(stranger, [{ TemplateId: TPL.paid, SubscribeStatusString: 'accept' }], 'json'),
    );
    expect(await credits(user, 'tplNotOurs_999')).toBe(0);
    expect(await q("SELECT id FROM users WHERE openid = 'o-never-logged-in'")).toEqual([]);
  });

  it('1,000 pushes of 100 distinct acceptances at once on two replicas add exactly 100 credits', async () => {
    // Ten users, ten acceptances each: one user's events are applied in order, users side by side.
    const fans = await Promise.all(Array.from({ length: 10 }, () => loginAs(stack.app, stack.wx)));
    for (const app of stack.apps) await app.app.listen(0, '127.0.0.1');
    const urls = stack.apps.map((a) => {
      const { port } = a.app.getHttpServer().address() as { port: number };
      return `http://127.0.0.1:${port}${PATH}`;
    });
    const distinct = Array.from({ length: 100 }, (_, i) =>
      popup(
        fans[i % 10],
        [{ TemplateId: TPL.paid, SubscribeStatusString: 'accept' }],
        i % 2 ? 'xml' : 'json',
      ),
    );
    const answers = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const fields = distinct[i % 100];
        const push = pusher.push(fields, {
          format: 'SubscribeMsgPopupEvent' in fields ? 'xml' : 'json',
        });
        const res = await fetch(`${urls[i % 2]}?${new URLSearchParams(push.query).toString()}`, {
          method: 'POST',
          headers: { 'content-type': push.contentType },
          body: push.body,
        });
        return `${res.status} ${await res.text()}`;
      }),
    );
    expect(answers.filter((a) => a !== '200 success')).toEqual([]);
    await drained(60_000);
    expect(await Promise.all(fans.map((f) => credits(f, TPL.paid)))).toEqual(Array(10).fill(10));
    const [stored] = await q(
      `SELECT COUNT(*) AS n FROM wechat_push_messages WHERE from_user IN (${fans.map(() => '?').join(',')})`,
      fans.map((f) => f.openid),
    );
    expect(Number(stored.n)).toBe(100);
  }, 120_000);
});
