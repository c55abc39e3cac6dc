import { Injectable } from '@nestjs/common';
import { Brackets, DataSource, In, type SelectQueryBuilder } from 'typeorm';
import { AppError, validationError } from '../../common/errors/index.js';
import { DEFAULT_PAGE_SIZE, MAX_INT, idCursor, withoutBudget } from '../../common/http/index.js';
import { AfterSalesRequest, toAfterSalesView } from '../after-sales/index.js';
import {
  Order,
  OrderItem,
  OrderShipment,
  OrderTimelineEntry,
  shipmentsView,
} from '../orders/index.js';
import { OrderPayment, OrderRefund } from '../payments/index.js';
import { User } from '../users/index.js';
import { orderCursor, type OrderKey } from './order-cursor.js';
import type { OrderFiltersDto, OrderListQuery, UserListQuery } from './order-filters.dto.js';
import { BOM, csvLine } from './orders-csv.js';
import type { StaffOrderPage, StaffOrderSummary, StaffOrderView } from './staff-order.view.js';
import { maskPhone, type StaffUserPage } from './staff-user.view.js';

const USER_PAGES = idCursor('su');

/** Orders read per query of the export: bounds its memory whatever the total. */
export const EXPORT_PAGE_SIZE = 500;

// At most this many shipments share a tracking number (a reused number); the search looks no further.
const TRACKING_MATCHES = 100;

export const EXPORT_HEADER = [
  'order_id',
  'placed_at',
  'status',
  'user_id',
  'total_cents',
  'refunded_cents',
  'consignee',
  'phone',
  'province',
  'city',
  'district',
  'address',
  'carrier',
  'tracking_no',
  'product_id',
  'product_name',
  'unit_price_cents',
  'quantity',
  'subtotal_cents',
];

/**
 * The back office's reads: every order and user, filtered and searched on
 * indexes, and the CSV export. Plain reads, so they run on a replica when
 * there is one (docs/staff.md).
 */
@Injectable()
export class BackOfficeService {
  constructor(private readonly dataSource: DataSource) {}

  async listOrders(query: OrderListQuery): Promise<StaffOrderPage> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = orderCursor.decode(query.cursor);
    const filters = await this.filtersOf(query);
    const rows = await this.filtered(filters, after)
      .take(limit + 1)
      .getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(summaryOf),
      nextCursor: rows.length > limit ? orderCursor.encode(last) : null,
    };
  }

  async order(id: number): Promise<StaffOrderView> {
    const order = await this.dataSource.getRepository(Order).findOneBy({ id });
    if (!order) throw new AppError('NOT_FOUND', 'order not found');
    const [items, payments, refunds, shipments, afterSales, timeline] = await Promise.all([
      this.dataSource
        .getRepository(OrderItem)
        .find({ where: { orderId: id }, order: { id: 'ASC' } }),
      this.dataSource.getRepository(OrderPayment).find({ where: { orderId: id } }),
      this.dataSource
        .getRepository(OrderRefund)
        .find({ where: { orderId: id }, order: { id: 'ASC' } }),
      this.dataSource
        .getRepository(OrderShipment)
        .find({ where: { orderId: id }, order: { packageIndex: 'ASC' } }),
      this.dataSource
        .getRepository(AfterSalesRequest)
        .find({ where: { orderId: id }, order: { id: 'DESC' } }),
      this.dataSource
        .getRepository(OrderTimelineEntry)
        .find({ where: { orderId: id }, order: { id: 'ASC' } }),
    ]);
    return {
      ...summaryOf(order),
      remark: order.remark,
      payBefore: order.payBefore.toISOString(),
      items: items.map((i) => ({
        productId: i.productId,
        name: i.productName,
        unitPriceCents: i.unitPriceCents,
        quantity: i.quantity,
        subtotalCents: i.unitPriceCents * i.quantity,
      })),
      payments: payments.map((p) => ({
        outTradeNo: p.outTradeNo,
        transactionId: p.transactionId,
        paidCents: p.paidCents,
        paidAt: p.paidAt?.toISOString() ?? null,
        createdAt: p.createdAt.toISOString(),
      })),
      refunds: refunds.map((r) => ({
        id: r.id,
        outRefundNo: r.outRefundNo,
        amountCents: r.amountCents,
        reason: r.reason,
        state: r.state,
        refundId: r.refundId,
        createdAt: r.createdAt.toISOString(),
        updatedAt: r.updatedAt.toISOString(),
      })),
      shipments: shipmentsView(shipments),
      afterSales: afterSales.map(toAfterSalesView),
      timeline: timeline.map((e) => ({
        from: e.fromStatus,
        to: e.toStatus,
        actor: e.actor,
        actorId: e.actorId,
        reason: e.reason,
        at: e.createdAt.toISOString(),
      })),
    };
  }

  /**
   * The CSV of every order line matching the filters, newest order first, as
   * text chunks. The filters are checked here (a bad one is a 400 before any
   * byte is sent); the rows are read as the chunks are taken.
   */
  async exportOrders(dto: OrderFiltersDto): Promise<AsyncGenerator<string>> {
    return this.exportChunks(await this.filtersOf(dto));
  }

  /**
   * One page of orders (and their lines) at a time, walked by keyset, so
   * memory stays the same for ten orders or ten million. Pages are separate
   * reads: an order changing during the export shows as it was when its page
   * was read. No request budget: a large export takes minutes, and each read
   * is a short indexed one.
   */
  private async *exportChunks(filters: Filters): AsyncGenerator<string> {
    yield BOM + csvLine(EXPORT_HEADER);
    let after: OrderKey | undefined;
    for (;;) {
      const { orders, items, shipments } = await withoutBudget(() =>
        this.exportPage(filters, after),
      );
      if (orders.length === 0) return;
      const shipmentOf = packagesByOrder(shipments);
      const linesOf = new Map<number, OrderItem[]>();
      for (const item of items) {
        const lines = linesOf.get(item.orderId);
        if (lines) lines.push(item);
        else linesOf.set(item.orderId, [item]);
      }
      let chunk = '';
      for (const o of orders) {
        const s = shipmentOf.get(o.id);
        for (const i of linesOf.get(o.id) ?? []) {
          chunk += csvLine([
            o.id,
            o.createdAt.toISOString(),
            o.status,
            o.userId,
            o.totalCents,
            o.refundedCents,
            o.addressName,
            o.addressPhone,
            o.addressProvince,
            o.addressCity,
            o.addressDistrict,
            o.addressDetail,
            s?.carriers ?? null,
            s?.trackingNos ?? null,
            i.productId,
            i.productName,
            i.unitPriceCents,
            i.quantity,
            i.unitPriceCents * i.quantity,
          ]);
        }
      }
      yield chunk;
      if (orders.length < EXPORT_PAGE_SIZE) return;
      after = orders[orders.length - 1];
    }
  }

  private async exportPage(filters: Filters, after: OrderKey | undefined) {
    const orders = await this.filtered(filters, after).take(EXPORT_PAGE_SIZE).getMany();
    if (orders.length === 0) return { orders, items: [], shipments: [] };
    const ids = orders.map((o) => o.id);
    const [items, shipments] = await Promise.all([
      this.dataSource
        .getRepository(OrderItem)
        .find({ where: { orderId: In(ids) }, order: { orderId: 'ASC', id: 'ASC' } }),
      this.dataSource
        .getRepository(OrderShipment)
        .find({ where: { orderId: In(ids) }, order: { orderId: 'ASC', packageIndex: 'ASC' } }),
    ]);
    return { orders, items, shipments };
  }

  /** Users, newest first; phones masked unless the reader is an admin. */
  async listUsers(query: UserListQuery, unmasked: boolean): Promise<StaffUserPage> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const beforeId = USER_PAGES.decode(query.cursor);
    const qb = this.dataSource.getRepository(User).createQueryBuilder('u');
    if (beforeId !== undefined) qb.andWhere('u.id < :beforeId', { beforeId });
    const q = query.q?.trim();
    if (q) {
      qb.andWhere(
        new Brackets((w) => {
          // '!' escapes LIKE's wildcards the same way on both engines.
          w.where('u.phone = :q', { q }).orWhere("u.nickname LIKE :prefix ESCAPE '!'", {
            prefix: `${q.replace(/[!%_]/g, (c) => `!${c}`)}%`,
          });
          const id = idIn(q);
          if (id !== undefined) w.orWhere('u.id = :qid', { qid: id });
        }),
      );
    }
    const rows = await qb
      .orderBy('u.id', 'DESC')
      .take(limit + 1)
      .getMany();
    const page = rows.slice(0, limit);
    return {
      items: page.map((u) => ({
        id: u.id,
        nickname: u.nickname,
        avatarUrl: u.avatarUrl,
        phone: u.phone === null || unmasked ? u.phone : maskPhone(u.phone),
        role: u.role,
        createdAt: u.createdAt.toISOString(),
      })),
      nextCursor: rows.length > limit ? USER_PAGES.encode(page[page.length - 1].id) : null,
    };
  }

  /**
   * Orders matching the filters after `after`, newest first: ordered by
   * (created_at, id) so that idx_orders_status_created_at (status filter)
   * or idx_orders_created_at (none) serves the order, the date range and
   * the keyset at once; a user's orders come from idx_orders_user_id.
   */
  /** Checks the dates and finds the orders of a tracking number `q` (their own index). */
  private async filtersOf(f: OrderFiltersDto): Promise<Filters> {
    const q = f.q?.trim() || undefined;
    const shipped =
      q === undefined
        ? []
        : await this.dataSource.getRepository(OrderShipment).find({
            select: { orderId: true },
            where: { trackingNo: q },
            take: TRACKING_MATCHES,
          });
    return {
      status: f.status,
      userId: f.userId,
      from: f.from === undefined ? undefined : dateOf(f.from, 'from'),
      to: f.to === undefined ? undefined : dateOf(f.to, 'to'),
      q,
      shipped: [...new Set(shipped.map((s) => s.orderId))],
    };
  }

  /**
   * Orders matching the filters after `after`, newest first: ordered by
   * (created_at, id) so that idx_orders_status_created_at (status filter)
   * or idx_orders_created_at (none) serves the order, the date range and
   * the keyset at once; a user's orders come from idx_orders_user_id.
   */
  private filtered(f: Filters, after: OrderKey | undefined): SelectQueryBuilder<Order> {
    const qb = this.dataSource.getRepository(Order).createQueryBuilder('o');
    if (f.status !== undefined) qb.andWhere('o.status = :status', { status: f.status });
    if (f.userId !== undefined) qb.andWhere('o.userId = :userId', { userId: f.userId });
    if (f.from !== undefined) qb.andWhere('o.createdAt >= :from', { from: f.from });
    if (f.to !== undefined) qb.andWhere('o.createdAt < :to', { to: f.to });
    if (after !== undefined) {
      // The first condition is the index range; the second breaks ties in the same millisecond.
      qb.andWhere('o.createdAt <= :afterAt', { afterAt: after.createdAt }).andWhere(
        new Brackets((w) => {
          w.where('o.createdAt < :afterAt').orWhere('o.id < :afterId', { afterId: after.id });
        }),
      );
    }
    const q = f.q;
    if (q !== undefined) {
      const id = idIn(q);
      qb.andWhere(
        new Brackets((w) => {
          w.where('o.addressPhone = :q', { q }).orWhere('o.addressName = :q');
          if (id !== undefined) w.orWhere('o.id = :qid', { qid: id });
          if (f.shipped.length > 0) w.orWhere('o.id IN (:...shipped)', { shipped: f.shipped });
        }),
      );
    }
    return qb.orderBy('o.createdAt', 'DESC').addOrderBy('o.id', 'DESC');
  }
}

interface Filters {
  status?: OrderFiltersDto['status'];
  userId?: number;
  from?: Date;
  to?: Date;
  q?: string;
  /** The orders whose tracking number is `q`. */
  shipped: number[];
}

/**
 * The export's carrier and tracking_no cells of each order: its packages'
 * values in package order, joined by `; ` (one package: just its values).
 */
function packagesByOrder(
  shipments: OrderShipment[],
): Map<number, { carriers: string; trackingNos: string }> {
  const byOrder = new Map<number, OrderShipment[]>();
  for (const s of shipments) byOrder.set(s.orderId, [...(byOrder.get(s.orderId) ?? []), s]);
  return new Map(
    [...byOrder].map(([orderId, packages]) => [
      orderId,
      {
        carriers: packages.map((p) => p.carrier ?? '').join('; '),
        trackingNos: packages.map((p) => p.trackingNo ?? '').join('; '),
      },
    ]),
  );
}

function summaryOf(o: Order): StaffOrderSummary {
  return {
    id: o.id,
    userId: o.userId,
    status: o.status,
    totalCents: o.totalCents,
    refundedCents: o.refundedCents,
    cancelReason: o.cancelReason,
    address:
      o.addressName === null
        ? null
        : {
            name: o.addressName,
            phone: o.addressPhone ?? '',
            province: o.addressProvince ?? '',
            city: o.addressCity ?? '',
            district: o.addressDistrict ?? '',
            detail: o.addressDetail ?? '',
            postalCode: o.addressPostalCode,
          },
    createdAt: o.createdAt.toISOString(),
    updatedAt: o.updatedAt.toISOString(),
  };
}

/** `q` as a row id, when it can be one. */
function idIn(q: string): number | undefined {
  if (!/^\d{1,10}$/.test(q)) return undefined;
  const id = Number(q);
  return id >= 1 && id <= MAX_INT ? id : undefined;
}

function dateOf(text: string, field: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) {
    throw validationError([{ field, message: `${field} must be an ISO 8601 date` }]);
  }
  return date;
}
