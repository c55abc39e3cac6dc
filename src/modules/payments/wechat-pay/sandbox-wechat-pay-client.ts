import {
  createCipheriv,
  createSecretKey,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { jsapiPayParams, nonce, responseMessage, sign, unixSeconds } from './signing.js';
import type { JsapiPayParams } from './signing.js';
import { WechatPayVerifier, type SignatureHeaders } from './verifier.js';
import {
  WechatPayClient,
  type PayRefund,
  type PayTransaction,
  type PrepayRequest,
  type RefundRequest,
} from './wechat-pay-client.js';
import { WechatPayError } from './wechat-pay-error.js';

const SANDBOX_SERIAL = 'PUB_KEY_ID_SANDBOX';

interface SandboxTransaction {
  request: PrepayRequest;
  prepayId: string;
  state: 'NOTPAY' | 'SUCCESS' | 'CLOSED' | 'REFUND';
  transactionId: string | null;
  successTime: string | null;
}

/**
 * WeChat Pay without credentials (development and the embedded quick start;
 * config never selects it with NODE_ENV=production). It keeps transactions in
 * process and has keys of its own, generated at boot, so that a sandbox
 * payment's notification is signed and encrypted like a real one and goes
 * through the same verifying handler. Refunds succeed at once.
 */
export class SandboxWechatPayClient extends WechatPayClient {
  readonly mchId = 'sandbox-mch';
  readonly verifier: WechatPayVerifier;
  readonly apiV3Key: KeyObject;
  private readonly apiV3KeyBytes = randomBytes(32);
  private readonly merchantKey: KeyObject;
  private readonly platformKey: KeyObject;
  private readonly transactions = new Map<string, SandboxTransaction>();
  private readonly refunds = new Map<string, PayRefund>();
  private seq = 0;

  constructor(readonly appId: string) {
    super();
    const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.merchantKey = merchant.privateKey;
    this.platformKey = platform.privateKey;
    this.verifier = new WechatPayVerifier(new Map([[SANDBOX_SERIAL, platform.publicKey]]));
    this.apiV3Key = createSecretKey(this.apiV3KeyBytes);
  }

  prepay(request: PrepayRequest): Promise<string> {
    const earlier = this.transactions.get(request.outTradeNo);
    if (earlier && earlier.state !== 'NOTPAY')
      return Promise.reject(
        new WechatPayError('refused', earlier.state === 'CLOSED' ? 'ORDER_CLOSED' : 'ORDERPAID'),
      );
    if (earlier) return Promise.resolve(earlier.prepayId);
    const prepayId = `sandbox_${request.outTradeNo}_${++this.seq}`;
    this.transactions.set(request.outTradeNo, {
      request,
      prepayId,
      state: 'NOTPAY',
      transactionId: null,
      successTime: null,
    });
    return Promise.resolve(prepayId);
  }

  payParams(prepayId: string): JsapiPayParams {
    return jsapiPayParams(this.appId, prepayId, this.merchantKey);
  }

  queryTransaction(outTradeNo: string): Promise<PayTransaction | null> {
    const t = this.transactions.get(outTradeNo);
    return Promise.resolve(t ? this.view(outTradeNo, t) : null);
  }

  close(outTradeNo: string): Promise<void> {
    const t = this.transactions.get(outTradeNo);
    if (t && (t.state === 'SUCCESS' || t.state === 'REFUND')) {
      return Promise.reject(new WechatPayError('refused', 'ORDERPAID'));
    }
    if (t) t.state = 'CLOSED';
    return Promise.resolve();
  }

  refund(request: RefundRequest): Promise<PayRefund> {
    const earlier = this.refunds.get(request.outRefundNo);
    if (earlier) return Promise.resolve(earlier);
    const t = this.transactions.get(request.outTradeNo);
    if (!t || (t.state !== 'SUCCESS' && t.state !== 'REFUND')) {
      return Promise.reject(new WechatPayError('refused', 'INVALID_REQUEST'));
    }
    t.state = 'REFUND';
    const refund: PayRefund = {
      outTradeNo: request.outTradeNo,
      outRefundNo: request.outRefundNo,
      refundId: `sandbox-refund-${++this.seq}`,
      status: 'SUCCESS',
      refundCents: request.refundCents,
    };
    this.refunds.set(request.outRefundNo, refund);
    return Promise.resolve(refund);
  }

  queryRefund(outRefundNo: string): Promise<PayRefund | null> {
    return Promise.resolve(this.refunds.get(outRefundNo) ?? null);
  }

  /**
   * The user "pays": the transaction becomes SUCCESS and the answer is the
   * notification WeChat Pay would post, signed and encrypted. Null when the
   * sandbox never prepaid this order.
   */
  pay(outTradeNo: string): { headers: SignatureHeaders; body: Buffer } | null {
    const t = this.transactions.get(outTradeNo);
    if (!t) return null;
    if (t.state === 'NOTPAY') {
      t.state = 'SUCCESS';
      t.transactionId = `sandbox-tx-${++this.seq}`;
      t.successTime = new Date().toISOString();
    }
    return this.notification('TRANSACTION.SUCCESS', this.raw(outTradeNo, t));
  }

  private notification(eventType: string, resource: object) {
    const iv = nonce().slice(0, 12);
    const cipher = createCipheriv('aes-256-gcm', this.apiV3KeyBytes, Buffer.from(iv));
    cipher.setAAD(Buffer.from('transaction'));
    const data = Buffer.concat([
      cipher.update(JSON.stringify(resource), 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    const body = Buffer.from(
      JSON.stringify({
        id: `sandbox-ev-${++this.seq}`,
        create_time: new Date().toISOString(),
        resource_type: 'encrypt-resource',
        event_type: eventType,
        resource: {
          original_type: 'transaction',
          algorithm: 'AEAD_AES_256_GCM',
          ciphertext: data.toString('base64'),
          associated_data: 'transaction',
          nonce: iv,
        },
      }),
    );
    const timestamp = String(unixSeconds());
    const headerNonce = nonce();
    const signature = sign(responseMessage(timestamp, headerNonce, body), this.platformKey);
    return {
      headers: { timestamp, nonce: headerNonce, signature, serial: SANDBOX_SERIAL },
      body,
    };
  }

  private raw(outTradeNo: string, t: SandboxTransaction) {
    const paid = t.state === 'SUCCESS' || t.state === 'REFUND';
    return {
      appid: this.appId,
      mchid: this.mchId,
      out_trade_no: outTradeNo,
      ...(t.transactionId ? { transaction_id: t.transactionId } : {}),
      trade_state: t.state,
      ...(t.successTime ? { success_time: t.successTime } : {}),
      amount: {
        total: t.request.totalCents,
        ...(paid ? { payer_total: t.request.totalCents } : {}),
      },
    };
  }

  private view(outTradeNo: string, t: SandboxTransaction): PayTransaction {
    const paid = t.state === 'SUCCESS' || t.state === 'REFUND';
    return {
      appid: this.appId,
      mchid: this.mchId,
      outTradeNo,
      transactionId: t.transactionId,
      tradeState: t.state,
      totalCents: paid ? t.request.totalCents : null,
      successTime: t.successTime,
    };
  }
}
