import { randomBytes } from 'node:crypto';

// out_trade_no is derived from the order id, so every prepay, query and close
// of an order names the same WeChat Pay order (6-32 chars of [A-Za-z0-9_-]).
const PREFIX = 'MP';
const TRADE_NO = /^MP(\d{10})$/;

export const outTradeNoOf = (orderId: number): string =>
  `${PREFIX}${String(orderId).padStart(10, '0')}`;

/** The order of an out_trade_no, or null when it is not one of ours. */
export function orderIdOf(outTradeNo: string): number | null {
  const m = TRADE_NO.exec(outTradeNo);
  return m ? Number(m[1]) : null;
}

/** A new out_refund_no: random, so it can be made before WeChat Pay is asked, and kept. */
export const newOutRefundNo = (orderId: number): string =>
  `${outTradeNoOf(orderId)}R${randomBytes(6).toString('hex')}`;
