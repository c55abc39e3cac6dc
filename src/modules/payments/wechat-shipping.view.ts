import { z } from 'zod';
import { apiView, isoTime, rowId } from '../../common/http/index.js';
import { ORDER_STATUSES } from '../orders/index.js';

/** get_order's order_state by name; `unknown_payment`: WeChat knows no such payment. */
export const WECHAT_SHIPPING_STATES = [
  'unknown_payment',
  'not_shipped',
  'shipped',
  'confirmed',
  'settled',
  'refunded',
  'awaiting_settlement',
] as const;
export type WechatShippingState = (typeof WECHAT_SHIPPING_STATES)[number];

/** The answer of POST /admin/orders/:id/wechat-reconcile. */
export const wechatReconcileView = apiView(
  'WechatReconcileView',
  z.strictObject({
    orderId: rowId(),
    /** Our status, after the reconciliation. */
    status: z.enum(ORDER_STATUSES),
    wechatState: z.enum(WECHAT_SHIPPING_STATES),
    /** Whether this call completed the order (WeChat had it confirmed or settled). */
    completed: z.boolean(),
  }),
);
export type WechatReconcileView = z.infer<typeof wechatReconcileView>;

/** The answer of POST /admin/orders/:id/wechat-remind-receipt. */
export const receiptReminderView = apiView(
  'ReceiptReminderView',
  z.strictObject({
    orderId: rowId(),
    /** When WeChat was told the goods arrived (received_time). */
    remindedAt: isoTime(),
  }),
);
export type ReceiptReminderView = z.infer<typeof receiptReminderView>;
