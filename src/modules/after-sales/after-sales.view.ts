import { z } from 'zod';
import { apiView, intColumn, isoTime, pageOf, rowId } from '../../common/http/index.js';
import {
  AFTER_SALES_STATUSES,
  AFTER_SALES_TYPES,
  type AfterSalesRequest,
} from './after-sales.entity.js';

/** An after-sales request, as the buyer and staff see it. */
export const afterSalesView = apiView(
  'AfterSalesView',
  z.strictObject({
    id: rowId(),
    orderId: rowId(),
    userId: rowId(),
    type: z.enum(AFTER_SALES_TYPES),
    status: z.enum(AFTER_SALES_STATUSES),
    amountCents: intColumn().meta({ description: 'what the buyer asked for' }),
    approvedCents: intColumn()
      .nullable()
      .meta({ description: 'what staff approved; null until approved' }),
    reason: z.string(),
    description: z.string().nullable(),
    rejectReason: z.string().nullable(),
    returnCarrier: z.string().nullable(),
    returnTrackingNo: z.string().nullable(),
    createdAt: isoTime(),
    updatedAt: isoTime(),
  }),
);
export type AfterSalesView = z.infer<typeof afterSalesView>;

export const afterSalesList = apiView(
  'AfterSalesList',
  z.strictObject({ items: z.array(afterSalesView) }),
);
export type AfterSalesList = z.infer<typeof afterSalesList>;

export const afterSalesPage = pageOf('AfterSalesPage', afterSalesView);
export type AfterSalesPage = z.infer<typeof afterSalesPage>;

export function toAfterSalesView(r: AfterSalesRequest): AfterSalesView {
  return {
    id: r.id,
    orderId: r.orderId,
    userId: r.userId,
    type: r.type,
    status: r.status,
    amountCents: r.amountCents,
    approvedCents: r.approvedCents,
    reason: r.reason,
    description: r.description,
    rejectReason: r.rejectReason,
    returnCarrier: r.returnCarrier,
    returnTrackingNo: r.returnTrackingNo,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}
