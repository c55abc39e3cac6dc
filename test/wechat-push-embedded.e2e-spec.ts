import { DataSource } from 'typeorm';
import { SandboxWechatClient } from '../src/modules/wechat/index.js';
import { startEmbeddedTestApp, type TestApp } from './helpers/app.js';
import { sleep, until } from './helpers/until.js';
import { WechatPusher, newAesKey } from './helpers/wechat-pusher.js';

// The push server on the embedded engine (SQLite's unique index, the in-process queue).
describe('WeChat push in embedded mode', () => {
  const keys = { token: 'embeddedPush1', aesKey: newAesKey(), appId: 'wx-embedded-appid' };
  const pusher = new WechatPusher(keys);
  let t: TestApp;

  beforeAll(async () => {
    t = await startEmbeddedTestApp({
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      SHUTDOWN_DRAIN_MS: '0',
      WECHAT_APPID: keys.appId,
      WECHAT_PUSH_TOKEN: keys.token,
      WECHAT_PUSH_AES_KEY: keys.aesKey,
      WECHAT_SUBSCRIBE_TEMPLATE_ORDER_PAID: 'tplEmbeddedPaid',
      WECHAT_SUBSCRIBE_FIELDS_ORDER_PAID: 'thing1=productName',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('stores a repeated popup once and adds its credit once', async () => {
    expect((await t.http.post('/api/v1/auth/login').send({ code: 'embedded-fan' })).status).toBe(
      200,
    );
    const fields = {
      ToUserName: 'gh_embedded',
      FromUserName: SandboxWechatClient.openidFor('embedded-fan'),
      CreateTime: 1_700_000_001,
      MsgType: 'event',
      Event: 'subscribe_msg_popup_event',
      List: { TemplateId: 'tplEmbeddedPaid', SubscribeStatusString: 'accept', PopupScene: '0' },
    };
    const answers = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const push = pusher.push(fields, { format: i === 1 ? 'xml' : 'json' });
        const res = await t.http
          .post('/api/v1/wechat/push')
          .query(push.query)
          .set('content-type', push.contentType)
          .send(push.body);
        return res.text;
      }),
    );
    expect(answers).toEqual(['success', 'success', 'success']);
    const db = t.app.get(DataSource);
    const rows = () =>
      db.query('SELECT template_id, credits FROM subscribe_credits') as Promise<
        { template_id: string; credits: number }[]
      >;
    await until(async () => (await rows()).length > 0, 5000);
    // Later deliveries would have had time to add more.
    await sleep(300);
    expect(await rows()).toEqual([{ template_id: 'tplEmbeddedPaid', credits: 1 }]);
    expect(await db.query('SELECT name FROM wechat_push_messages')).toEqual([
      { name: 'subscribe_msg_popup_event' },
    ]);
    const forged = pusher.push(fields);
    const refused = await t.http
      .post('/api/v1/wechat/push')
      .query({ ...forged.query, msg_signature: '0'.repeat(40) })
      .set('content-type', forged.contentType)
      .send(forged.body);
    expect(refused.status).toBe(401);
  });
});
