import type { NewEvent } from '../../infra/queue/index.js';
import type { CancelReason } from './order.entity.js';

/**
 * The order events of the outbox. Each is appended in the transaction of its
 * transition; `paid`, `shipped`, `refunded` and `refund-failed` are written by
 * the payment flow.
 */
export const ORDER_EVENTS = {
  placed: 'order.placed',
  batchPlaced: 'order.batch-placed',
  paid: 'order.paid',
  cancelled: 'order.cancelled',
  shipped: 'order.shipped',
  /** An order of only virtual goods, completed by its payment (nothing ships). */
  delivered: 'order.delivered',
  refunded: 'order.refunded',
  /** A refund WeChat Pay closed or refused: the order went back where it was. */
  refundFailed: 'order.refund-failed',
} as const;

export type OrderEventType = (typeof ORDER_EVENTS)[keyof typeof ORDER_EVENTS];

export interface OrderPlacedPayload {
  orderId: number;
  userId: number;
  totalCents: number;
  /** ISO 8601: when the payment timeout closes the order. */
  payBefore: string;
  items: { productId: number; quantity: number }[];
}

/**
 * Orders placed together in one transaction (a flash sale's batch), all with
 * one payBefore: one event instead of an `order.placed` each, so the outbox
 * and the payment timeout handle a batch as one row and one job. A consumer
 * of `order.placed` that must see every order subscribes to this too and
 * reads what else it needs from the orders.
 */
export interface OrdersBatchPlacedPayload {
  orderIds: number[];
  /** ISO 8601: when the payment timeout closes the orders still unpaid. */
  payBefore: string;
}

export interface OrderDeliveredPayload {
  orderId: number;
  userId: number;
}

/** A refund WeChat Pay confirmed (partial or full). */
export interface OrderRefundedPayload {
  orderId: number;
  refundCents: number;
  /** The refund's row (order_refunds.id): what an after-sales request waits for. */
  refundId: number;
}

export interface OrderRefundFailedPayload {
  orderId: number;
  /** The refund's row (order_refunds.id). */
  refundId: number;
}

export interface OrderCancelledPayload {
  orderId: number;
  userId: number;
  reason: CancelReason;
}

/** An event of order `orderId`: one aggregate, so consumers see its events in commit order. */
export function orderEvent<P extends { orderId: number }>(
  type: OrderEventType,
  payload: P,
): NewEvent<P> {
  return { type, aggregateType: 'order', aggregateId: payload.orderId, payload };
}

/** The batch event of orders placed together; its aggregate is the batch (its first order). */
export function batchPlacedEvent(
  payload: OrdersBatchPlacedPayload,
): NewEvent<OrdersBatchPlacedPayload> {
  return {
    type: ORDER_EVENTS.batchPlaced,
    aggregateType: 'order-batch',
    aggregateId: payload.orderIds[0],
    payload,
  };
}
