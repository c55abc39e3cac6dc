import type { NewEvent } from '../../infra/queue/index.js';

/** Outbox events of the payment flow (the order events themselves are in the orders module). */
export const PAYMENT_EVENTS = {
  /** A prepay was made: the reconcile job asks WeChat Pay a few minutes later. */
  prepaid: 'payment.prepaid',
  /** A refund row was written: the refund job asks WeChat Pay for it. */
  refundRequested: 'payment.refund-requested',
} as const;

export interface PrepaidPayload {
  orderId: number;
}

export interface RefundRequestedPayload {
  orderId: number;
  refundId: number;
}

export function paymentEvent<P extends { orderId: number }>(type: string, payload: P): NewEvent<P> {
  return { type, aggregateType: 'order', aggregateId: payload.orderId, payload };
}
