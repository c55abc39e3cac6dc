import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { Registry } from 'prom-client';
import { Formatter, Rsa } from 'wechatpay-axios-plugin';
import {
  startFakeWechatPay,
  type FakeWechatPay,
} from '../../../../test/helpers/fake-wechat-pay.js';
import { loadConfig } from '../../../config/index.js';
import { CircuitBreaker } from '../../../infra/resilience/index.js';
import { HttpWechatPayClient, rfc3339 } from './http-wechat-pay-client.js';
import { WechatPayVerifier } from './verifier.js';
import { WechatPayError } from './wechat-pay-error.js';

describe('HttpWechatPayClient against a fake WeChat Pay', () => {
  let pay: FakeWechatPay;
  let registry: Registry;
  let client: HttpWechatPayClient;
  let seq = 0;
  const outTradeNo = () => `T${Date.now()}${++seq}`;

  function makeClient(breaker?: CircuitBreaker, timeoutMs = 2000) {
    const config = loadConfig({ NODE_ENV: 'test', WECHAT_APPID: pay.appid, ...pay.env() });
    if (config.payments.kind !== 'wechat') throw new Error('expected WeChat Pay credentials');
    const p = config.payments;
    registry = new Registry();
    return new HttpWechatPayClient({
      appId: p.appId,
      mchId: p.mchId,
      merchantSerial: p.merchantSerial,
      privateKey: p.privateKey,
      verifier: new WechatPayVerifier(p.verifyingKeys),
      publicKeyId: p.publicKeyId,
      notifyUrl: p.notifyUrl,
      baseUrl: p.apiBaseUrl,
      timeoutMs,
      registry,
      breaker,
    });
  }

  const prepay = (no: string, totalCents = 990) =>
    client.prepay({
      outTradeNo: no,
      description: 'order',
      totalCents,
      openid: 'o-user-1',
      expiresAt: new Date(Date.now() + 15 * 60_000),
    });

  async function failure(call: Promise<unknown>): Promise<WechatPayError> {
    const err = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WechatPayError);
    return err as WechatPayError;
  }

  const metric = async (api: string, outcome: string) => {
    const m = await registry.getSingleMetric('wechat_pay_requests_total')?.get();
    return m?.values.find((v) => v.labels.api === api && v.labels.outcome === outcome)?.value ?? 0;
  };

  beforeAll(async () => {
    pay = await startFakeWechatPay();
  });
  beforeEach(() => {
    pay.failAll = undefined;
    pay.failNext = undefined;
    pay.delayMs = 0;
    client = makeClient();
  });
  afterEach(() => client.closeConnections());
  afterAll(() => pay.close());

  it('prepays with every JSAPI field, signed so that WeChat Pay accepts it', async () => {
    const no = outTradeNo();
    const expiresAt = new Date(Date.now() + 15 * 60_000);
    const prepayId = await client.prepay({
      outTradeNo: no,
      description: 'Order 1',
      totalCents: 990,
      openid: 'o-1',
      expiresAt,
    });
    expect(prepayId).toBe(pay.transactions.get(no)?.prepayId);
    expect(pay.badRequestSignatures).toBe(0);
    expect(pay.received.at(-1)?.body).toEqual({
      appid: pay.appid,
      mchid: pay.mchid,
      description: 'Order 1',
      out_trade_no: no,
      time_expire: rfc3339(expiresAt),
      notify_url: 'https://shop.example.com/api/v1/payments/wechat/notify',
      amount: { total: 990, currency: 'CNY' },
      payer: { openid: 'o-1' },
    });
    expect(await metric('prepay', 'ok')).toBe(1);
  });

  it('writes time_expire in RFC 3339 at +08:00', () => {
    expect(rfc3339(new Date('2026-12-01T16:30:05.120Z'))).toBe('2026-12-02T00:30:05+08:00');
  });

  it('queries, closes and reads a closed or missing order', async () => {
    const no = outTradeNo();
    await prepay(no);
    expect(await client.queryTransaction(no)).toMatchObject({
      outTradeNo: no,
      tradeState: 'NOTPAY',
      totalCents: null,
    });
    await client.close(no);
    expect((await client.queryTransaction(no))?.tradeState).toBe('CLOSED');
    expect(await client.queryTransaction('never-prepaid')).toBeNull();
    expect(await metric('query', 'not_found')).toBe(1);
  });

  it('reports a paid order: closing it is refused with ORDERPAID and the query says SUCCESS', async () => {
    const no = outTradeNo();
    await prepay(no, 500);
    pay.pay(no);
    expect((await failure(client.close(no))).payCode).toBe('ORDERPAID');
    expect(await client.queryTransaction(no)).toMatchObject({
      tradeState: 'SUCCESS',
      totalCents: 500,
    });
    expect(await metric('close', 'refused')).toBe(1);
  });

  it('refunds once per out_refund_no and queries the refund', async () => {
    const no = outTradeNo();
    await prepay(no, 800);
    pay.pay(no);
    const request = { outTradeNo: no, outRefundNo: `${no}R1`, refundCents: 300, totalCents: 800 };
    const first = await client.refund(request);
    expect(first).toMatchObject({ status: 'PROCESSING', refundCents: 300 });
    expect(await client.refund(request)).toEqual(first);
    expect(pay.refunds.size).toBeGreaterThanOrEqual(1);
    pay.settleRefund(`${no}R1`);
    expect(await client.queryRefund(`${no}R1`)).toMatchObject({
      status: 'SUCCESS',
      refundId: first.refundId,
    });
    expect(await client.queryRefund('no-such-refund')).toBeNull();
    const tooMuch = await failure(
      client.refund({ ...request, outRefundNo: `${no}R2`, refundCents: 501 }),
    );
    expect(tooMuch.payCode).toBe('NOT_ENOUGH');
  });

  it.each([
    ['signed by another key', 'bad_signature'],
    ['unsigned', 'unsigned'],
  ] as const)('never trusts an answer %s: 502/50210', async (_name, mode) => {
    const no = outTradeNo();
    pay.failNext = mode;
    const err = await failure(prepay(no));
    expect(err).toMatchObject({ reason: 'WECHAT_PAY_UPSTREAM', outcome: 'bad_signature' });
    expect(await metric('prepay', 'bad_signature')).toBe(1);
  });

  it('does not trust an error answer that fails verification either', async () => {
    const no = outTradeNo();
    await prepay(no);
    pay.pay(no);
    pay.failNext = 'bad_signature';
    const err = await failure(client.close(no));
    expect(err.payCode).toBeUndefined();
    expect(err.outcome).toBe('bad_signature');
  });

  it('maps 5xx, non-JSON and timeouts to 502/50210', async () => {
    pay.failNext = 'http_5xx';
    expect((await failure(prepay(outTradeNo()))).outcome).toBe('http_5xx');
    pay.failNext = 'non_json';
    expect((await failure(prepay(outTradeNo()))).outcome).toBe('bad_answer');
    client.closeConnections();
    client = makeClient(undefined, 200);
    pay.failNext = 'timeout';
    expect((await failure(prepay(outTradeNo()))).outcome).toBe('timeout');
  });

  it('opens its breaker on upstream failures only, then fails fast without calling', async () => {
    client.closeConnections();
    client = makeClient(new CircuitBreaker({ failureThreshold: 3, cooldownMs: 60_000 }));
    // Refusals and bad signatures say nothing about WeChat Pay's health.
    pay.failAll = 'bad_signature';
    for (let i = 0; i < 4; i++) await failure(prepay(outTradeNo()));
    pay.failAll = undefined;
    for (let i = 0; i < 4; i++) await failure(client.close('never-prepaid'));
    expect(await prepay(outTradeNo())).toMatch(/^wx/);

    pay.failAll = 'http_5xx';
    for (let i = 0; i < 3; i++) await failure(prepay(outTradeNo()));
    const before = pay.counts.prepay ?? 0;
    pay.failAll = undefined;
    expect((await failure(prepay(outTradeNo()))).outcome).toBe('circuit_open');
    expect(pay.counts.prepay ?? 0).toBe(before);
    const breaker = await registry.getSingleMetric('wechat_pay_circuit_breaker_state')?.get();
    expect(breaker?.values[0].value).toBe(2);
  });

  it('keeps the merchant key and the APIv3 key out of errors and the config print', async () => {
    const env = pay.env();
    const pem = readFileSync(env.WECHAT_PAY_PRIVATE_KEY_FILE, 'utf8');
    const keyBody = pem.split('\n')[1];
    const config = loadConfig({ NODE_ENV: 'test', WECHAT_APPID: pay.appid, ...env });
    pay.failNext = 'bad_signature';
    const err = await failure(prepay(outTradeNo()));
    const printed = [
      inspect(config, { depth: 10 }),
      inspect(err, { depth: 10 }),
      JSON.stringify(err),
      String(err.stack),
    ].join('\n');
    expect(printed).not.toContain(keyBody);
    expect(printed).not.toContain(env.WECHAT_PAY_APIV3_KEY);
  });

  it('signs requests so that wechatpay-axios-plugin verifies them', async () => {
    const no = outTradeNo();
    await prepay(no);
    await client.queryTransaction(no);
    const config = loadConfig({ NODE_ENV: 'test', WECHAT_APPID: pay.appid, ...pay.env() });
    if (config.payments.kind !== 'wechat') throw new Error('expected credentials');
    const merchantPublicKey = createPublicKey(config.payments.privateKey);
    for (const r of pay.received.slice(-2)) {
      const fields = Object.fromEntries(
        [...r.authorization.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
      );
      expect(r.authorization).toBe(
        Formatter.authorization(
          pay.mchid,
          fields.nonce_str,
          fields.signature,
          fields.timestamp,
          pay.merchantSerial,
        ),
      );
      const message = Formatter.request(
        r.method,
        r.path,
        fields.timestamp,
        fields.nonce_str,
        r.raw,
      );
      expect(Rsa.verify(message, fields.signature, merchantPublicKey)).toBe(true);
    }
  });
});
