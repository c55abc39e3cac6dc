import { z } from 'zod';
import { apiView, intColumn, isoTime, MAX_INT, rowId } from '../../common/http/index.js';
import type { FlashSale } from './flash-sale.entity.js';

/** The immutable part of a sale plus its remaining units: what the cache holds. */
export interface SaleSnapshot {
  id: number;
  productId: number;
  productName: string;
  priceCents: number;
  stock: number;
  remaining: number;
  perUserLimit: number;
  startsMs: number;
  endsMs: number;
  /** Stock buckets the sale's units are split over in Redis (fixed at creation). */
  buckets: number;
}

export const flashSaleView = apiView(
  'FlashSaleView',
  z.strictObject({
    id: rowId(),
    productId: rowId(),
    priceCents: intColumn().meta({ example: 990 }),
    stock: intColumn().meta({ example: 100 }),
    remaining: intColumn().meta({ description: 'may lag by up to 1 s' }),
    perUserLimit: z.int().min(1).max(MAX_INT).meta({ example: 1 }),
    startsAt: isoTime(),
    endsAt: isoTime(),
    status: z.enum(['upcoming', 'live', 'sold_out', 'ended']),
  }),
);
export type FlashSaleView = z.infer<typeof flashSaleView>;
export type FlashSaleStatus = FlashSaleView['status'];

export const ticketView = apiView(
  'FlashTicketView',
  z.strictObject({
    ticket: z.string(),
    status: z.enum(['queued', 'placed', 'failed']),
    orderId: rowId().nullable(),
    reason: z.string().nullable().meta({ description: 'why the order could not be written' }),
  }),
);
export type TicketView = z.infer<typeof ticketView>;

export const admissionView = apiView(
  'FlashAdmission',
  z.strictObject({ ticket: z.string(), status: z.literal('queued') }),
);
export type AdmissionView = z.infer<typeof admissionView>;

export function snapshotOf(sale: FlashSale, remaining = sale.remaining): SaleSnapshot {
  return {
    id: sale.id,
    productId: sale.productId,
    productName: sale.productName,
    priceCents: sale.priceCents,
    stock: sale.stock,
    remaining,
    perUserLimit: sale.perUserLimit,
    startsMs: sale.startsAt.getTime(),
    endsMs: sale.endsAt.getTime(),
    buckets: sale.stockBuckets,
  };
}

/** Status is computed at read time, so a cached snapshot turns live and ended on time. */
export function statusAt(s: SaleSnapshot, now: number): FlashSaleStatus {
  if (now < s.startsMs) return 'upcoming';
  if (now >= s.endsMs) return 'ended';
  return s.remaining > 0 ? 'live' : 'sold_out';
}

export function toView(s: SaleSnapshot, now = Date.now()): FlashSaleView {
  return {
    id: s.id,
    productId: s.productId,
    priceCents: s.priceCents,
    stock: s.stock,
    remaining: s.remaining,
    perUserLimit: s.perUserLimit,
    startsAt: new Date(s.startsMs).toISOString(),
    endsAt: new Date(s.endsMs).toISOString(),
    status: statusAt(s, now),
  };
}
