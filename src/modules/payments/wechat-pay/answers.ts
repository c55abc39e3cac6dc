import type { PayRefund, PayTransaction, RefundStatus, TradeState } from './wechat-pay-client.js';

// WeChat Pay's JSON (query answers, refund answers, decrypted notification
// resources) read into our types. Anything that does not have the shape is a
// bad answer: it is never half-trusted.

const TRADE_STATES = new Set<TradeState>([
  'SUCCESS',
  'REFUND',
  'NOTPAY',
  'CLOSED',
  'REVOKED',
  'USERPAYING',
  'PAYERROR',
]);
const REFUND_STATUSES = new Set<RefundStatus>(['SUCCESS', 'CLOSED', 'PROCESSING', 'ABNORMAL']);

/** The JSON did not have the fields WeChat Pay documents. */
export class BadAnswerError extends Error {
  override name = 'BadAnswerError';
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null;

function str(o: Json, key: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) throw new BadAnswerError(`missing ${key}`);
  return v;
}

const optionalStr = (o: Json, key: string): string | null =>
  typeof o[key] === 'string' && o[key] !== '' ? (o[key] as string) : null;

function cents(o: Json, key: string): number {
  const v = o[key];
  if (!Number.isSafeInteger(v) || (v as number) < 0) throw new BadAnswerError(`bad ${key}`);
  return v as number;
}

export function parseTransaction(o: unknown): PayTransaction {
  if (!isObject(o)) throw new BadAnswerError('not an object');
  const tradeState = str(o, 'trade_state') as TradeState;
  if (!TRADE_STATES.has(tradeState)) throw new BadAnswerError('unknown trade_state');
  const amount = o.amount;
  const paid = tradeState === 'SUCCESS' || tradeState === 'REFUND';
  if (paid && !isObject(amount)) throw new BadAnswerError('paid without amount');
  return {
    appid: str(o, 'appid'),
    mchid: str(o, 'mchid'),
    outTradeNo: str(o, 'out_trade_no'),
    transactionId: paid ? str(o, 'transaction_id') : optionalStr(o, 'transaction_id'),
    tradeState,
    totalCents: paid ? cents(amount as Json, 'total') : null,
    successTime: optionalStr(o, 'success_time'),
  };
}

/** A refund answer (`status`) or a refund notification resource (`refund_status`). */
export function parseRefund(o: unknown): PayRefund {
  if (!isObject(o)) throw new BadAnswerError('not an object');
  const status = (optionalStr(o, 'status') ?? str(o, 'refund_status')) as RefundStatus;
  if (!REFUND_STATUSES.has(status)) throw new BadAnswerError('unknown refund status');
  const amount = o.amount;
  if (!isObject(amount)) throw new BadAnswerError('refund without amount');
  return {
    outTradeNo: str(o, 'out_trade_no'),
    outRefundNo: str(o, 'out_refund_no'),
    refundId: str(o, 'refund_id'),
    status,
    refundCents: cents(amount, 'refund'),
  };
}
