import type { JsapiPayParams } from './signing.js';

/** A JSAPI prepay for one order (amounts in cents, CNY). */
export interface PrepayRequest {
  outTradeNo: string;
  description: string;
  totalCents: number;
  openid: string;
  /** `time_expire`: WeChat refuses payment after it (the order's payBefore). */
  expiresAt: Date;
}

/** `trade_state` values of API v3. */
export type TradeState =
  'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR';

/** A transaction as WeChat Pay reports it (query answer or decrypted notification). */
export interface PayTransaction {
  appid: string;
  mchid: string;
  outTradeNo: string;
  transactionId: string | null;
  tradeState: TradeState;
  /** What the payer was charged, in cents; null unless paid. */
  totalCents: number | null;
  successTime: string | null;
}

export interface RefundRequest {
  outTradeNo: string;
  /** Stable across retries: WeChat answers a repeated one with the same refund. */
  outRefundNo: string;
  refundCents: number;
  totalCents: number;
  reason?: string;
}

export type RefundStatus = 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL';

export interface PayRefund {
  outTradeNo: string;
  outRefundNo: string;
  refundId: string;
  status: RefundStatus;
  refundCents: number;
}

/**
 * WeChat Pay API v3 for the mini-program (JSAPI) product. The injection
 * token: the HTTP client on real credentials, the sandbox in development.
 */
export abstract class WechatPayClient {
  abstract readonly appId: string;
  abstract readonly mchId: string;
  /** Creates the prepay; answers the prepay_id (valid for 2 h, and not after expiresAt). */
  abstract prepay(request: PrepayRequest): Promise<string>;
  /** `wx.requestPayment` parameters for a prepay id. */
  abstract payParams(prepayId: string): JsapiPayParams;
  /** null when WeChat Pay has no such order (never prepaid). */
  abstract queryTransaction(outTradeNo: string): Promise<PayTransaction | null>;
  /**
   * Closes the WeChat order so it can no longer be paid. Resolves when closed
   * (or already closed); a paid order is not closable: ask queryTransaction.
   */
  abstract close(outTradeNo: string): Promise<void>;
  abstract refund(request: RefundRequest): Promise<PayRefund>;
  /** null when WeChat Pay has no refund with this number. */
  abstract queryRefund(outRefundNo: string): Promise<PayRefund | null>;
}
