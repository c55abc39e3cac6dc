import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { SessionKeyCipher } from '../src/modules/auth/tokens/index.js';
import { outTradeNoOf } from '../src/modules/payments/trade-numbers.js';
import { addressIdOf } from './helpers/addresses.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, dropRedisKeys, testRedisPrefix } from './helpers/env.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';
import { startFakeWechatPay, type FakeWechatPay } from './helpers/fake-wechat-pay.js';

const API = '/api/v1';
const OLD_SECRET = 'old-secret-of-the-rotation-test-0001';
const NEW_SECRET = 'new-secret-of-the-rotation-test-0002';
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('Key rotation', () => {
  let db: TestDatabase;
  let wx: FakeWechat;
  let pay: FakeWechatPay;
  const prefix = testRedisPrefix();
  const running = new Set<TestApp>();

  /** Replicas of one deployment: same database, same Redis prefix, only the keys differ. */
  async function start(env: Record<string, string>): Promise<TestApp> {
    const t = await startTestApp({
      ...baseEnv(db.url, prefix),
      WECHAT_API_BASE_URL: wx.url,
      ADMIN_OPENIDS: 'rotation-admin',
      LOG_LEVEL: 'warn',
      ...env,
    });
    running.add(t);
    return t;
  }
  async function stop(t: TestApp): Promise<void> {
    running.delete(t);
    await t.close();
  }

  beforeAll(async () => {
    [db, wx, pay] = await Promise.all([
      createTestDatabase(),
      startFakeWechat(),
      startFakeWechatPay(),
    ]);
  });
  afterAll(async () => {
    for (const t of running) await t.close().catch(() => undefined);
    await pay?.close();
    await wx?.close();
    await db?.drop();
    await dropRedisKeys(prefix);
  });

  describe('of JWT_SECRET', () => {
    const me = (t: TestApp, token: string) => t.http.get(`${API}/users/me`).set(bearer(token));
    const sealedKeyOf = async (t: TestApp, accessToken: string) => {
      const { sid } = jwt.decode(accessToken) as { sid: string };
      // The session hash, under its hash tag (redis-session.store.ts).
      return (await t.redis()!.hget(`sess:{${sid}}`, 'sk')) as string;
    };
    let before: LoggedIn;
    let sessionKey: string;
    let sealed: string;
    let after: { accessToken: string; refreshToken: string };

    it('keeps everyone signed in: tokens of the previous secret verify, and their session keys open', async () => {
      const old = await start({ JWT_SECRET: OLD_SECRET });
      before = await loginAs(old, wx);
      sessionKey = wx.sessionKeyOf(before.openid)!;
      sealed = await sealedKeyOf(old, before.accessToken);
      await stop(old);

      const rotated = await start({ JWT_SECRET: NEW_SECRET, JWT_PREVIOUS_SECRETS: OLD_SECRET });
      expect((await me(rotated, before.accessToken)).status).toBe(200);
      expect(rotated.app.get(SessionKeyCipher).decrypt(sealed)).toBe(sessionKey);

      // What the rotated replica issues is signed with the new secret only.
      const res = await rotated.http
        .post(`${API}/auth/refresh`)
        .send({ refreshToken: before.refreshToken });
      expect(res.status).toBe(200);
      after = res.body.data as typeof after;
      expect(() => jwt.verify(after.accessToken, NEW_SECRET)).not.toThrow();
      expect(() => jwt.verify(after.accessToken, OLD_SECRET)).toThrow(/invalid signature/);
      const fresh = await loginAs(rotated, wx);
      expect(() => jwt.verify(fresh.accessToken, NEW_SECRET)).not.toThrow();
      const freshSealed = await sealedKeyOf(rotated, fresh.accessToken);
      expect(new SessionKeyCipher(NEW_SECRET).decrypt(freshSealed)).toBe(
        wx.sessionKeyOf(fresh.openid),
      );
      expect(rotated.rawLogs()).not.toContain(OLD_SECRET);
      await stop(rotated);
    });

    it('mid-rollout, a repeated refresh on a replica with the other secret gets 409 and revokes nothing', async () => {
      const [old, rotated] = [
        await start({ JWT_SECRET: OLD_SECRET, JWT_PREVIOUS_SECRETS: NEW_SECRET }),
        await start({ JWT_SECRET: NEW_SECRET, JWT_PREVIOUS_SECRETS: OLD_SECRET }),
      ];
      const u = await loginAs(old, wx);
      const first = await old.http
        .post(`${API}/auth/refresh`)
        .send({ refreshToken: u.refreshToken });
      expect(first.status).toBe(200);
      // The repeat computes another successor there: nothing issued, nothing revoked.
      const repeat = await rotated.http
        .post(`${API}/auth/refresh`)
        .send({ refreshToken: u.refreshToken });
      expect([repeat.status, repeat.body.code]).toEqual([409, 40900]);
      // On a replica with the first one's secret it is the same rotation again.
      const again = await old.http
        .post(`${API}/auth/refresh`)
        .send({ refreshToken: u.refreshToken });
      expect(again.body.data.refreshToken).toBe(first.body.data.refreshToken);
      // The pair the first request got works on both replicas.
      for (const t of [old, rotated])
        expect((await me(t, first.body.data.accessToken)).status).toBe(200);
      const next = await rotated.http
        .post(`${API}/auth/refresh`)
        .send({ refreshToken: first.body.data.refreshToken });
      expect(next.status).toBe(200);
      await stop(old);
      await stop(rotated);
    });

    it('refuses tokens and sealed keys of the previous secret once it is retired', async () => {
      const retired = await start({ JWT_SECRET: NEW_SECRET });
      const refused = await me(retired, before.accessToken);
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe(40100);
      expect(() => retired.app.get(SessionKeyCipher).decrypt(sealed)).toThrow(/does not open/);
      // Tokens issued during the rotation live on.
      expect((await me(retired, after.accessToken)).status).toBe(200);
      await stop(retired);
    });
  });

  describe('of the WeChat Pay public key', () => {
    let previous: { id: string; file: string };
    let admin: LoggedIn;
    let buyer: LoggedIn;

    beforeAll(() => {
      previous = pay.rotatePublicKey();
    });

    /** A replica with these WeChat Pay keys, and who buys on it. */
    async function replica(env: Record<string, string>): Promise<TestApp> {
      const t = await start(env);
      admin = await loginAs(t, wx, { admin: true });
      buyer = await loginAs(t, wx);
      return t;
    }

    /** A prepaid order of `t`, paid at the fake: WeChat Pay's notification is due. */
    async function paidAtWechat(t: TestApp): Promise<number> {
      const product = await t.http
        .post(`${API}/admin/products`)
        .set(bearer(admin.accessToken))
        .send({ name: 'Tea', priceCents: 100, stock: 5 });
      const order = await t.http
        .post(`${API}/orders`)
        .set(bearer(buyer.accessToken))
        .set('Idempotency-Key', `k-${randomBytes(8).toString('hex')}`)
        .send({
          items: [{ productId: product.body.data.id as number, quantity: 1 }],
          addressId: await addressIdOf(t, buyer),
        });
      const id = order.body.data.id as number;
      const prepay = await t.http
        .post(`${API}/orders/${id}/payment`)
        .set(bearer(buyer.accessToken));
      expect(prepay.status).toBe(200);
      pay.pay(outTradeNoOf(id));
      return id;
    }
    const notify = (t: TestApp, n: { headers: Record<string, string>; body: string }) =>
      t.http.post(`${API}/payments/wechat/notify`).set(n.headers).send(n.body);
    const statusOf = async (t: TestApp, id: number) =>
      (await t.http.get(`${API}/orders/${id}`).set(bearer(buyer.accessToken))).body.data.status;

    it('verifies notifications signed with the previous key while it is configured, and with the new one', async () => {
      const t = await replica({
        ...pay.env(),
        WECHAT_PAY_PREVIOUS_PUBLIC_KEY_IDS: previous.id,
        WECHAT_PAY_PREVIOUS_PUBLIC_KEY_FILES: previous.file,
      });
      const byOld = await paidAtWechat(t);
      const oldSigned = pay.transactionNotification(outTradeNoOf(byOld), { previousKey: true });
      expect(oldSigned.headers['wechatpay-serial']).toBe(previous.id);
      expect((await notify(t, oldSigned)).status).toBe(204);
      expect(await statusOf(t, byOld)).toBe('paid');

      const byNew = await paidAtWechat(t);
      const newSigned = pay.transactionNotification(outTradeNoOf(byNew));
      expect(newSigned.headers['wechatpay-serial']).toBe(pay.publicKeyId);
      expect((await notify(t, newSigned)).status).toBe(204);
      expect(await statusOf(t, byNew)).toBe('paid');
      await stop(t);
    });

    it('refuses notifications of the previous key once it is removed', async () => {
      const t = await replica(pay.env());
      const id = await paidAtWechat(t);
      const res = await notify(
        t,
        pay.transactionNotification(outTradeNoOf(id), { previousKey: true }),
      );
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ code: 'FAIL', message: 'unknown Wechatpay-Serial' });
      expect(await statusOf(t, id)).toBe('pending');
      await stop(t);
    });
  });
});
