import { z } from 'zod';
import { apiView, intColumn, isoTime, pageOf, rowId } from '../../common/http/index.js';
import { afterSalesView } from '../after-sales/index.js';
import {
  CANCEL_REASONS,
  ORDER_ACTORS,
  ORDER_STATUSES,
  orderShipmentView,
} from '../orders/index.js';
import { deliveryAddressView } from '../users/index.js';

const orderFields = {
  id: rowId(),
  userId: rowId(),
  status: z.enum(ORDER_STATUSES),
  totalCents: intColumn().meta({ example: 11800 }),
  refundedCents: intColumn(),
  cancelReason: z.enum(CANCEL_REASONS).nullable(),
  address: deliveryAddressView.nullable(),
  createdAt: isoTime(),
  updatedAt: isoTime(),
};

/** An order in the back office's list. */
export const staffOrderSummaryView = apiView('StaffOrderSummaryView', z.strictObject(orderFields));
export type StaffOrderSummary = z.infer<typeof staffOrderSummaryView>;

export const staffOrderPage = pageOf('StaffOrderPage', staffOrderSummaryView);
export type StaffOrderPage = z.infer<typeof staffOrderPage>;

const lineView = z.strictObject({
  productId: rowId(),
  name: z.string(),
  unitPriceCents: intColumn(),
  quantity: z.int().min(1),
  subtotalCents: intColumn(),
});

const paymentView = z.strictObject({
  outTradeNo: z.string(),
  transactionId: z.string().nullable(),
  paidCents: intColumn().nullable(),
  paidAt: isoTime().nullable(),
  createdAt: isoTime(),
});

const refundView = z.strictObject({
  id: rowId(),
  outRefundNo: z.string(),
  amountCents: intColumn(),
  reason: z.string().nullable(),
  state: z.enum(['requested', 'processing', 'success', 'closed', 'abnormal']),
  refundId: z.string().nullable(),
  createdAt: isoTime(),
  updatedAt: isoTime(),
});

const timelineView = z.strictObject({
  from: z.enum(ORDER_STATUSES).nullable().meta({ description: 'null for the placing' }),
  to: z.enum(ORDER_STATUSES),
  actor: z.enum(ORDER_ACTORS),
  actorId: rowId().nullable(),
  reason: z.string().nullable(),
  at: isoTime(),
});

/** GET /admin/orders/:id: the order and everything that happened to it. */
export const staffOrderView = apiView(
  'StaffOrderView',
  z.strictObject({
    ...orderFields,
    remark: z.string().nullable(),
    payBefore: isoTime(),
    items: z.array(lineView),
    payments: z.array(paymentView),
    refunds: z.array(refundView),
    shipments: z
      .array(orderShipmentView)
      .meta({ description: 'one a package, in the order they were given when shipping' }),
    afterSales: z.array(afterSalesView).meta({ description: 'after-sales requests, newest first' }),
    timeline: z.array(timelineView).meta({ description: 'every transition, oldest first' }),
  }),
);
export type StaffOrderView = z.infer<typeof staffOrderView>;
