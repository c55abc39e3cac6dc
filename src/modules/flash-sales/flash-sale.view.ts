import type { FlashSale } from './flash-sale.entity.js';
import type { TicketStatus } from './flash-ticket.entity.js';

export type FlashSaleStatus = 'upcoming' | 'live' | 'sold_out' | 'ended';

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
}

export interface FlashSaleView {
  id: number;
  productId: number;
  priceCents: number;
  stock: number;
  remaining: number;
  perUserLimit: number;
  startsAt: string;
  endsAt: string;
  status: FlashSaleStatus;
}

export interface TicketView {
  ticket: string;
  status: TicketStatus;
  orderId: number | null;
  reason: string | null;
}

export interface AdmissionView {
  ticket: string;
  status: 'queued';
}

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
