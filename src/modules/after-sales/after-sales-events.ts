import type { NewEvent } from '../../infra/queue/index.js';

/** The after-sales events of the outbox, each appended in the transaction of its change. */
export const AFTER_SALES_EVENTS = {
  approved: 'after-sales.approved',
  rejected: 'after-sales.rejected',
  refunded: 'after-sales.refunded',
} as const;

export type AfterSalesEventType = (typeof AFTER_SALES_EVENTS)[keyof typeof AFTER_SALES_EVENTS];

/** Carries `orderId` like the order events, so a consumer of both reads the order the same way. */
export interface AfterSalesEventPayload {
  afterSalesId: number;
  orderId: number;
  userId: number;
  /** Approved or refunded amount; null for a rejection. */
  amountCents: number | null;
  /** The rejection's reason; null otherwise. */
  reason: string | null;
}

export function afterSalesEvent(
  type: AfterSalesEventType,
  payload: AfterSalesEventPayload,
): NewEvent<AfterSalesEventPayload> {
  return { type, aggregateType: 'after-sales', aggregateId: payload.afterSalesId, payload };
}
