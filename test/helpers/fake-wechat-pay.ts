import {
  createCipheriv,
  createSign,
  createVerify,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A local HTTP server that behaves like WeChat Pay API v3 (JSAPI), for e2e
 * tests and benchmarks. Everything is generated per run: the merchant key pair
 * (its private key is written to a file for WECHAT_PAY_PRIVATE_KEY_FILE, its
 * public key verifies our requests), WeChat Pay's own key pair (signs every
 * answer and notification; `PUB_KEY_ID_…` serial) and the APIv3 key (encrypts
 * notification resources, AEAD_AES_256_GCM).
 *
 *   const pay = await startFakeWechatPay();
 *   env = { ...pay.env(), WECHAT_PAY_NOTIFY_URL: 'https://shop.example/api/v1/payments/wechat/notify' };
 *   pay.pay('O00000042');                       // the user paid: state SUCCESS
 *   const n = pay.transactionNotification('O00000042');   // signed + encrypted, as WeChat sends it
 *   await http.post(NOTIFY).set(n.headers).send(n.body);
 *   pay.notification('TRANSACTION.SUCCESS', resource, { stale: true });  // forged/stale/probe…
 *   pay.failNext = 'http_5xx';                  // next answer is a 500 (or 'timeout', 'bad_signature', 'non_json')
 */
export interface FakeTransaction {
  appid: string;
  mchid: string;
  outTradeNo: string;
  description: string;
  total: number;
  openid: string;
  notifyUrl: string;
  timeExpire: string;
  prepayId: string;
  state: 'NOTPAY' | 'SUCCESS' | 'CLOSED' | 'REFUND';
  transactionId: string | null;
  successTime: string | null;
  /** What the payer was charged: total unless a test says otherwise. */
  paidTotal: number;
}

export interface FakeRefund {
  outTradeNo: string;
  outRefundNo: string;
  refundId: string;
  status: 'PROCESSING' | 'SUCCESS' | 'ABNORMAL' | 'CLOSED';
  refund: number;
  total: number;
  notifyUrl: string | undefined;
}

export interface NotificationOptions {
  /** Timestamp 5 minutes (or `skewS`) in the past. */
  stale?: boolean;
  skewS?: number;
  /** A `WECHATPAY/SIGNTEST/` probe signature. */
  probe?: boolean;
  /** Signed with a key that is not WeChat Pay's. */
  forged?: boolean;
  /** A serial we never configured. */
  unknownSerial?: boolean;
  /** Encrypted with another APIv3 key (signature still valid). */
  wrongApiV3Key?: boolean;
  /** Signed with the public key before the last rotatePublicKey(), under its id. */
  previousKey?: boolean;
}

export interface SignedNotification {
  headers: Record<string, string>;
  /** The exact bytes WeChat Pay posts (not canonical JSON: re-serializing breaks the signature). */
  body: string;
}

export type FailMode = 'http_5xx' | 'timeout' | 'bad_signature' | 'non_json' | 'unsigned';

export interface FakeWechatPay {
  url: string;
  mchid: string;
  appid: string;
  publicKeyId: string;
  merchantSerial: string;
  /** WECHAT_PAY_* variables for an app that talks to this fake. */
  env(): Record<string, string>;
  transactions: Map<string, FakeTransaction>;
  refunds: Map<string, FakeRefund>;
  /** Calls by API (`prepay`, `query`, `close`, `refund`, `refund_query`). */
  counts: Record<string, number>;
  /** Requests refused because their signature did not verify. */
  badRequestSignatures: number;
  /** Every verified request as received (in order): raw body, parsed body, Authorization. */
  received: {
    api: string;
    method: string;
    path: string;
    raw: string;
    body: unknown;
    authorization: string;
  }[];
  failNext: FailMode | undefined;
  /** While set, every answer fails this way. */
  failAll: FailMode | undefined;
  delayMs: number;
  /** The user pays: SUCCESS with this amount (default: the order's total). */
  pay(outTradeNo: string, paidTotal?: number): FakeTransaction;
  /** WeChat finishes a refund (SUCCESS, or ABNORMAL/CLOSED). */
  settleRefund(outRefundNo: string, status?: 'SUCCESS' | 'ABNORMAL' | 'CLOSED'): FakeRefund;
  transactionNotification(outTradeNo: string, options?: NotificationOptions): SignedNotification;
  refundNotification(outRefundNo: string, options?: NotificationOptions): SignedNotification;
  /** Any resource, signed and encrypted like the real thing (or broken as asked). */
  notification(
    eventType: string,
    resource: Record<string, unknown>,
    options?: NotificationOptions,
  ): SignedNotification;
  /**
   * WeChat Pay rotates its public key: a new key pair and PUB_KEY_ID_ from now
   * on (env() names them); the previous one, returned, still signs on request.
   */
  rotatePublicKey(): { id: string; file: string };
  /** POSTs a notification to a URL (a replica in another process). */
  deliver(url: string, n: SignedNotification): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

const nowSec = () => Math.floor(Date.now() / 1000);

function rsaPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

function signWith(key: KeyObject, message: string | Buffer): string {
  return createSign('RSA-SHA256').update(message).sign(key, 'base64');
}

function encrypt(apiV3Key: Buffer, plaintext: string, associatedData: string) {
  const nonce = randomBytes(6).toString('hex'); // 12 characters, like WeChat's
  const cipher = createCipheriv('aes-256-gcm', apiV3Key, Buffer.from(nonce));
  cipher.setAAD(Buffer.from(associatedData));
  const data = Buffer.concat([
    cipher.update(plaintext, 'utf8'),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  return { ciphertext: data.toString('base64'), nonce, associated_data: associatedData };
}

const AUTH = /^WECHATPAY2-SHA256-RSA2048 (.+)$/;

function parseAuthorization(value: string | undefined): Record<string, string> | undefined {
  const m = AUTH.exec(value ?? '');
  if (!m) return undefined;
  const fields: Record<string, string> = {};
  for (const part of m[1].split(',')) {
    const kv = /^(\w+)="([^"]*)"$/.exec(part.trim());
    if (!kv) return undefined;
    fields[kv[1]] = kv[2];
  }
  return fields;
}

export async function startFakeWechatPay(
  options: { appid?: string; mchid?: string } = {},
): Promise<FakeWechatPay> {
  const appid = options.appid ?? 'wx-test-appid';
  const mchid = options.mchid ?? '1900000109';
  const merchant = rsaPair();
  let platform = rsaPair();
  let previous: { pair: ReturnType<typeof rsaPair>; id: string } | undefined;
  const impostor = rsaPair();
  const apiV3Key = randomBytes(16).toString('hex'); // 32 ASCII bytes, like the real one
  const newKeyId = () => `PUB_KEY_ID_0114${randomBytes(10).toString('hex').toUpperCase()}`;
  let publicKeyId = newKeyId();
  const merchantSerial = randomBytes(20).toString('hex').toUpperCase();
  const dir = mkdtempSync(join(tmpdir(), 'fake-wxpay-'));
  const privateKeyFile = join(dir, 'apiclient_key.pem');
  let publicKeyFile = join(dir, 'pub_key.pem');
  writeFileSync(privateKeyFile, merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(publicKeyFile, platform.publicKey.export({ type: 'spki', format: 'pem' }));

  const transactions = new Map<string, FakeTransaction>();
  const refunds = new Map<string, FakeRefund>();
  let seq = 0;

  function signedHeaders(
    body: string | Buffer,
    o: NotificationOptions = {},
  ): Record<string, string> {
    const timestamp = String(nowSec() - (o.stale ? (o.skewS ?? 300) : 0));
    const nonce = randomBytes(16).toString('hex');
    const message = Buffer.concat([
      Buffer.from(`${timestamp}\n${nonce}\n`),
      Buffer.from(body),
      Buffer.from('\n'),
    ]);
    if (o.previousKey && !previous) throw new Error('fake WeChat Pay: no key was rotated out');
    const signer = o.previousKey ? previous!.pair : platform;
    const signature = o.probe
      ? `WECHATPAY/SIGNTEST/${randomBytes(32).toString('base64')}`
      : signWith(o.forged ? impostor.privateKey : signer.privateKey, message);
    const serial = o.previousKey ? previous!.id : publicKeyId;
    return {
      'wechatpay-timestamp': timestamp,
      'wechatpay-nonce': nonce,
      'wechatpay-signature': signature,
      'wechatpay-serial': o.unknownSerial ? 'PUB_KEY_ID_0114UNKNOWN' : serial,
    };
  }

  function answer(res: ServerResponse, status: number, payload: unknown, mode?: FailMode): void {
    const body = payload === undefined ? '' : JSON.stringify(payload);
    if (mode === 'http_5xx') {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'SYSTEM_ERROR', message: 'system error' }));
      return;
    }
    if (mode === 'non_json') {
      const page = '<html>bad gateway</html>';
      res.writeHead(status, { 'content-type': 'text/html', ...signedHeaders(page) });
      res.end(page);
      return;
    }
    const headers =
      mode === 'unsigned' ? {} : signedHeaders(body, { forged: mode === 'bad_signature' });
    res.writeHead(status, { ...(body ? { 'content-type': 'application/json' } : {}), ...headers });
    res.end(body);
  }

  function transactionJson(t: FakeTransaction): Record<string, unknown> {
    const paid = t.state === 'SUCCESS' || t.state === 'REFUND';
    return {
      appid: t.appid,
      mchid: t.mchid,
      out_trade_no: t.outTradeNo,
      ...(t.transactionId ? { transaction_id: t.transactionId } : {}),
      trade_type: 'JSAPI',
      trade_state: t.state,
      trade_state_desc: t.state,
      ...(paid
        ? {
            bank_type: 'OTHERS',
            success_time: t.successTime,
            payer: { openid: t.openid },
            amount: {
              total: t.paidTotal,
              payer_total: t.paidTotal,
              currency: 'CNY',
              payer_currency: 'CNY',
            },
          }
        : { amount: { total: t.total, currency: 'CNY' } }),
    };
  }

  function refundJson(r: FakeRefund, key: 'status' | 'refund_status'): Record<string, unknown> {
    const t = transactions.get(r.outTradeNo);
    return {
      mchid,
      refund_id: r.refundId,
      out_refund_no: r.outRefundNo,
      transaction_id: t?.transactionId,
      out_trade_no: r.outTradeNo,
      channel: 'ORIGINAL',
      [key]: r.status,
      ...(r.status === 'SUCCESS' ? { success_time: new Date().toISOString() } : {}),
      amount: {
        total: r.total,
        refund: r.refund,
        payer_total: r.total,
        payer_refund: r.refund,
        currency: 'CNY',
      },
    };
  }

  const refunded = (outTradeNo: string) =>
    [...refunds.values()]
      .filter(
        (r) => r.outTradeNo === outTradeNo && r.status !== 'CLOSED' && r.status !== 'ABNORMAL',
      )
      .reduce((sum, r) => sum + r.refund, 0);

  function route(
    method: string,
    path: string,
    body: Record<string, unknown>,
  ): [string, number, unknown] {
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/v3/pay/transactions/jsapi') {
      const amount = body.amount as { total?: unknown; currency?: unknown } | undefined;
      const payer = body.payer as { openid?: unknown } | undefined;
      const outTradeNo = body.out_trade_no;
      if (
        body.appid !== appid ||
        body.mchid !== mchid ||
        typeof outTradeNo !== 'string' ||
        !/^[A-Za-z0-9_*-]{6,32}$/.test(outTradeNo) ||
        typeof body.description !== 'string' ||
        typeof body.notify_url !== 'string' ||
        typeof body.time_expire !== 'string' ||
        !Number.isSafeInteger(amount?.total) ||
        (amount?.total as number) < 1 ||
        amount?.currency !== 'CNY' ||
        typeof payer?.openid !== 'string'
      ) {
        return ['prepay', 400, { code: 'PARAM_ERROR', message: 'bad parameters' }];
      }
      if (Date.parse(body.time_expire) <= Date.now()) {
        return ['prepay', 400, { code: 'INVALID_REQUEST', message: 'time_expire has passed' }];
      }
      const earlier = transactions.get(outTradeNo);
      if (earlier) {
        if (earlier.state === 'SUCCESS' || earlier.state === 'REFUND')
          return ['prepay', 400, { code: 'ORDERPAID', message: 'order paid' }];
        if (earlier.state === 'CLOSED')
          return ['prepay', 400, { code: 'ORDER_CLOSED', message: 'order closed' }];
        if (earlier.total !== amount?.total || earlier.openid !== payer?.openid)
          return [
            'prepay',
            400,
            { code: 'INVALID_REQUEST', message: 'out_trade_no reused with other parameters' },
          ];
        return ['prepay', 200, { prepay_id: earlier.prepayId }];
      }
      const t: FakeTransaction = {
        appid,
        mchid,
        outTradeNo,
        description: body.description,
        total: amount?.total as number,
        openid: payer?.openid as string,
        notifyUrl: body.notify_url,
        timeExpire: body.time_expire,
        prepayId: `wx${Date.now()}${String(++seq).padStart(8, '0')}`,
        state: 'NOTPAY',
        transactionId: null,
        successTime: null,
        paidTotal: amount?.total as number,
      };
      transactions.set(outTradeNo, t);
      return ['prepay', 200, { prepay_id: t.prepayId }];
    }
    if (
      (m = /^\/v3\/pay\/transactions\/out-trade-no\/([^/?]+)\/close$/.exec(path)) &&
      method === 'POST'
    ) {
      if (body.mchid !== mchid) return ['close', 400, { code: 'PARAM_ERROR', message: 'mchid' }];
      const t = transactions.get(decodeURIComponent(m[1]));
      if (!t) return ['close', 404, { code: 'ORDER_NOT_EXIST', message: 'no such order' }];
      if (t.state === 'SUCCESS' || t.state === 'REFUND')
        return ['close', 400, { code: 'ORDERPAID', message: 'order paid' }];
      t.state = 'CLOSED';
      return ['close', 204, undefined];
    }
    if (
      (m = /^\/v3\/pay\/transactions\/out-trade-no\/([^/?]+)\?mchid=(.+)$/.exec(path)) &&
      method === 'GET'
    ) {
      if (decodeURIComponent(m[2]) !== mchid)
        return ['query', 400, { code: 'PARAM_ERROR', message: 'mchid' }];
      const t = transactions.get(decodeURIComponent(m[1]));
      if (!t) return ['query', 404, { code: 'ORDER_NOT_EXIST', message: 'no such order' }];
      return ['query', 200, transactionJson(t)];
    }
    if (method === 'POST' && path === '/v3/refund/domestic/refunds') {
      const amount = body.amount as
        { refund?: unknown; total?: unknown; currency?: unknown } | undefined;
      const outRefundNo = body.out_refund_no;
      const t = transactions.get(String(body.out_trade_no));
      if (
        typeof outRefundNo !== 'string' ||
        !Number.isSafeInteger(amount?.refund) ||
        (amount?.refund as number) < 1
      )
        return ['refund', 400, { code: 'PARAM_ERROR', message: 'bad parameters' }];
      if (!t) return ['refund', 404, { code: 'RESOURCE_NOT_EXISTS', message: 'no such order' }];
      const earlier = refunds.get(outRefundNo);
      if (earlier) return ['refund', 200, refundJson(earlier, 'status')];
      if (t.state !== 'SUCCESS' && t.state !== 'REFUND')
        return ['refund', 400, { code: 'INVALID_REQUEST', message: 'order not paid' }];
      if (amount?.total !== t.paidTotal)
        return ['refund', 400, { code: 'PARAM_ERROR', message: 'total does not match' }];
      if (refunded(t.outTradeNo) + (amount?.refund as number) > t.paidTotal)
        return ['refund', 403, { code: 'NOT_ENOUGH', message: 'refund exceeds the payment' }];
      const r: FakeRefund = {
        outTradeNo: t.outTradeNo,
        outRefundNo,
        refundId: `50${Date.now()}${String(++seq).padStart(8, '0')}`,
        status: 'PROCESSING',
        refund: amount?.refund as number,
        total: t.paidTotal,
        notifyUrl: typeof body.notify_url === 'string' ? body.notify_url : undefined,
      };
      refunds.set(outRefundNo, r);
      t.state = 'REFUND';
      return ['refund', 200, refundJson(r, 'status')];
    }
    if ((m = /^\/v3\/refund\/domestic\/refunds\/([^/?]+)$/.exec(path)) && method === 'GET') {
      const r = refunds.get(decodeURIComponent(m[1]));
      if (!r)
        return ['refund_query', 404, { code: 'RESOURCE_NOT_EXISTS', message: 'no such refund' }];
      return ['refund_query', 200, refundJson(r, 'status')];
    }
    return ['unknown', 404, { code: 'NOT_FOUND', message: 'no such API' }];
  }

  const fake: FakeWechatPay = {
    url: '',
    mchid,
    appid,
    publicKeyId,
    merchantSerial,
    transactions,
    refunds,
    counts: {},
    badRequestSignatures: 0,
    received: [],
    failNext: undefined,
    failAll: undefined,
    delayMs: 0,
    env: () => ({
      WECHAT_PAY_MCHID: mchid,
      WECHAT_PAY_MERCHANT_SERIAL: merchantSerial,
      WECHAT_PAY_PRIVATE_KEY_FILE: privateKeyFile,
      WECHAT_PAY_APIV3_KEY: apiV3Key,
      WECHAT_PAY_PUBLIC_KEY_FILE: publicKeyFile,
      WECHAT_PAY_PUBLIC_KEY_ID: publicKeyId,
      WECHAT_PAY_NOTIFY_URL: 'https://shop.example.com/api/v1/payments/wechat/notify',
      WECHAT_PAY_API_BASE_URL: fake.url,
    }),
    rotatePublicKey() {
      const old = { id: publicKeyId, file: publicKeyFile };
      previous = { pair: platform, id: publicKeyId };
      platform = rsaPair();
      publicKeyId = newKeyId();
      publicKeyFile = join(dir, `${publicKeyId}.pem`);
      writeFileSync(publicKeyFile, platform.publicKey.export({ type: 'spki', format: 'pem' }));
      fake.publicKeyId = publicKeyId;
      return old;
    },
    pay(outTradeNo, paidTotal) {
      const t = transactions.get(outTradeNo);
      if (!t) throw new Error(`fake WeChat Pay: no transaction ${outTradeNo}`);
      if (t.state !== 'NOTPAY') throw new Error(`fake WeChat Pay: ${outTradeNo} is ${t.state}`);
      t.state = 'SUCCESS';
      t.transactionId = `4200${Date.now()}${String(++seq).padStart(8, '0')}`;
      t.successTime = new Date().toISOString();
      t.paidTotal = paidTotal ?? t.total;
      return t;
    },
    settleRefund(outRefundNo, status = 'SUCCESS') {
      const r = refunds.get(outRefundNo);
      if (!r) throw new Error(`fake WeChat Pay: no refund ${outRefundNo}`);
      r.status = status;
      return r;
    },
    notification(eventType, resource, o = {}) {
      const associatedData = eventType.startsWith('REFUND.') ? 'refund' : 'transaction';
      const key = o.wrongApiV3Key ? randomBytes(16).toString('hex') : apiV3Key;
      const enc = encrypt(Buffer.from(key), JSON.stringify(resource), associatedData);
      // Spaces and \u escapes as a real sender may write them: a receiver that
      // re-serializes the JSON before verifying gets other bytes and fails.
      const body =
        `{"id": "EV-${randomBytes(8).toString('hex')}", "create_time": "${new Date().toISOString()}", ` +
        `"resource_type": "encrypt-resource", "event_type": "${eventType}", ` +
        `"summary": "\\u652f\\u4ed8\\u6210\\u529f", "resource": {"original_type": "${associatedData}", ` +
        `"algorithm": "AEAD_AES_256_GCM", "ciphertext": "${enc.ciphertext}", ` +
        `"associated_data": "${enc.associated_data}", "nonce": "${enc.nonce}"}}`;
      return { headers: { 'content-type': 'application/json', ...signedHeaders(body, o) }, body };
    },
    transactionNotification(outTradeNo, o) {
      const t = transactions.get(outTradeNo);
      if (!t) throw new Error(`fake WeChat Pay: no transaction ${outTradeNo}`);
      return fake.notification('TRANSACTION.SUCCESS', transactionJson(t), o);
    },
    refundNotification(outRefundNo, o) {
      const r = refunds.get(outRefundNo);
      if (!r) throw new Error(`fake WeChat Pay: no refund ${outRefundNo}`);
      const event =
        r.status === 'SUCCESS'
          ? 'REFUND.SUCCESS'
          : r.status === 'CLOSED'
            ? 'REFUND.CLOSED'
            : 'REFUND.ABNORMAL';
      return fake.notification(event, refundJson(r, 'refund_status'), o);
    },
    async deliver(url, n) {
      const res = await fetch(url, { method: 'POST', headers: n.headers, body: n.body });
      return { status: res.status, body: await res.text() };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        rmSync(dir, { recursive: true, force: true });
      }),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const mode = fake.failAll ?? fake.failNext;
    fake.failNext = undefined;
    if (fake.delayMs > 0) await sleep(fake.delayMs);
    if (mode === 'timeout') {
      await sleep(60_000);
      return;
    }

    // Verify the request like WeChat Pay does: merchant, serial, clock, signature.
    const auth = parseAuthorization(req.headers.authorization);
    const message = `${method}\n${path}\n${auth?.timestamp}\n${auth?.nonce_str}\n${raw}\n`;
    if (
      !auth ||
      auth.mchid !== mchid ||
      auth.serial_no !== merchantSerial ||
      Math.abs(nowSec() - Number(auth.timestamp)) >= 300 ||
      !createVerify('RSA-SHA256')
        .update(message)
        .verify(merchant.publicKey, auth.signature ?? '', 'base64')
    ) {
      fake.badRequestSignatures++;
      answer(res, 401, { code: 'SIGN_ERROR', message: 'signature does not verify' });
      return;
    }
    let body: Record<string, unknown> = {};
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        answer(res, 400, { code: 'PARAM_ERROR', message: 'body is not JSON' });
        return;
      }
    }
    const [api, status, payload] = route(method, path, body);
    fake.counts[api] = (fake.counts[api] ?? 0) + 1;
    fake.received.push({
      api,
      method,
      path,
      raw,
      body,
      authorization: req.headers.authorization ?? '',
    });
    answer(res, status, payload, mode);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
