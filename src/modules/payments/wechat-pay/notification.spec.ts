import {
  startFakeWechatPay,
  type FakeWechatPay,
} from '../../../../test/helpers/fake-wechat-pay.js';
import { loadConfig } from '../../../config/index.js';
import { NotificationReader } from './notification.js';
import { WechatPayVerifier, signatureHeaders } from './verifier.js';

describe('WeChat Pay notifications', () => {
  let pay: FakeWechatPay;
  let reader: NotificationReader;

  beforeAll(async () => {
    pay = await startFakeWechatPay();
    const config = loadConfig({ NODE_ENV: 'test', WECHAT_APPID: pay.appid, ...pay.env() });
    if (config.payments.kind !== 'wechat') throw new Error('expected WeChat Pay credentials');
    reader = new NotificationReader(
      new WechatPayVerifier(config.payments.verifyingKeys),
      config.payments.apiV3Key,
    );
    pay.transactions.set('O00000001', {
      appid: pay.appid,
      mchid: pay.mchid,
      outTradeNo: 'O00000001',
      description: 'order 1',
      total: 1234,
      openid: 'o-user',
      notifyUrl: 'https://shop.example.com/n',
      timeExpire: new Date(Date.now() + 60_000).toISOString(),
      prepayId: 'wx-prepay',
      state: 'NOTPAY',
      transactionId: null,
      successTime: null,
      paidTotal: 1234,
    });
    pay.pay('O00000001');
  });
  afterAll(() => pay.close());

  const read = (n: { headers: Record<string, string>; body: string }) =>
    reader.read(signatureHeaders(n.headers), Buffer.from(n.body));

  it('verifies and decrypts a payment notification over its raw bytes', () => {
    const result = read(pay.transactionNotification('O00000001'));
    expect(result).toMatchObject({
      ok: true,
      notification: {
        kind: 'transaction',
        eventType: 'TRANSACTION.SUCCESS',
        transaction: {
          outTradeNo: 'O00000001',
          tradeState: 'SUCCESS',
          totalCents: 1234,
          appid: pay.appid,
          mchid: pay.mchid,
        },
      },
    });
  });

  it('reads refund notifications (refund_status)', () => {
    const n = pay.notification('REFUND.SUCCESS', {
      mchid: pay.mchid,
      out_trade_no: 'O00000001',
      transaction_id: '4200',
      out_refund_no: 'R00000001x1',
      refund_id: '5000',
      refund_status: 'SUCCESS',
      amount: { total: 1234, refund: 100, payer_total: 1234, payer_refund: 100 },
    });
    expect(read(n)).toMatchObject({
      ok: true,
      notification: {
        kind: 'refund',
        refund: { outRefundNo: 'R00000001x1', status: 'SUCCESS', refundCents: 100 },
      },
    });
  });

  it.each([
    ['stale (5 minutes off)', { stale: true }, 'stale'],
    ['from the future', { stale: true, skewS: -300 }, 'stale'],
    ['a WECHATPAY/SIGNTEST/ probe', { probe: true }, 'probe'],
    ['forged', { forged: true }, 'bad_signature'],
    ['from an unknown serial', { unknownSerial: true }, 'unknown_serial'],
  ])('refuses a notification %s with 401', (_name, options, reason) => {
    expect(read(pay.transactionNotification('O00000001', options))).toEqual({
      ok: false,
      status: 401,
      reason,
    });
  });

  it('accepts a timestamp just under 5 minutes old', () => {
    expect(read(pay.transactionNotification('O00000001', { stale: true, skewS: 290 })).ok).toBe(
      true,
    );
  });

  it('refuses a re-serialized body (the signature covers the bytes as sent)', () => {
    const n = pay.transactionNotification('O00000001');
    const reserialized = JSON.stringify(JSON.parse(n.body));
    expect(reserialized).not.toBe(n.body);
    expect(reader.read(signatureHeaders(n.headers), Buffer.from(reserialized))).toMatchObject({
      ok: false,
      status: 401,
      reason: 'bad_signature',
    });
  });

  it('refuses missing signature headers with 401', () => {
    const n = pay.transactionNotification('O00000001');
    const { 'wechatpay-signature': _dropped, ...rest } = n.headers;
    expect(reader.read(signatureHeaders(rest), Buffer.from(n.body))).toMatchObject({
      status: 401,
      reason: 'missing_headers',
    });
  });

  it('refuses a signed resource that does not decrypt with 400', () => {
    expect(read(pay.transactionNotification('O00000001', { wrongApiV3Key: true }))).toEqual({
      ok: false,
      status: 400,
      reason: 'decrypt_failed',
    });
  });

  it('refuses a signed, decryptable resource without the documented fields with 400', () => {
    expect(read(pay.notification('TRANSACTION.SUCCESS', { out_trade_no: 'O00000001' }))).toEqual({
      ok: false,
      status: 400,
      reason: 'bad_resource',
    });
  });

  it('refuses an event type it does not handle with 400', () => {
    expect(read(pay.notification('TRANSACTION.WHATEVER', {}))).toMatchObject({
      status: 400,
      reason: 'unknown_event',
    });
  });
});
