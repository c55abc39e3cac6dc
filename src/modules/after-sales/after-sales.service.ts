import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, MoreThan, type EntityManager, type Repository } from 'typeorm';
import { AppError } from '../../common/errors/index.js';
import { idCursor } from '../../common/http/index.js';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { AuditLog } from '../../infra/audit/index.js';
import { ConsistencyService } from '../../infra/consistency/index.js';
import { OutboxWriter } from '../../infra/queue/index.js';
import { Transactions, isDuplicateKey } from '../../infra/transactions/index.js';
import {
  OrderTimelineEntry,
  OrderTransitions,
  OrdersService,
  type Order,
  type OrderStatus,
} from '../orders/index.js';
import { RefundsService } from '../payments/index.js';
import { AFTER_SALES_EVENTS, afterSalesEvent } from './after-sales-events.js';
import type {
  ApproveAfterSalesDto,
  CreateAfterSalesDto,
  RejectAfterSalesDto,
  ReturnShipmentDto,
} from './after-sales.dto.js';
import { AfterSalesRequest, OPEN_STATUSES, type AfterSalesStatus } from './after-sales.entity.js';
import { toAfterSalesView, type AfterSalesPage, type AfterSalesView } from './after-sales.view.js';

/** The order statuses a request may be made on (completed: within AFTER_SALES_DAYS). */
const REQUESTABLE: readonly OrderStatus[] = ['paid', 'shipped', 'completed'];

const cursor = idCursor('after-sales');

const notAllowed = (why: string) => new AppError('AFTER_SALES_NOT_ALLOWED', why);

/** The refund engine's own answer to an amount above what is left (409 with refundableCents). */
const aboveRefundable = (refundable: number) =>
  new AppError('CONFLICT', `at most ${refundable} cents are left to refund`, {
    refundableCents: refundable,
  });

const requestHash = (orderId: number, dto: CreateAfterSalesDto) =>
  createHash('sha256')
    .update(
      JSON.stringify([
        orderId,
        dto.type,
        dto.reason,
        dto.amountCents ?? null,
        dto.description ?? null,
      ]),
    )
    .digest('hex');

/**
 * The refund engine's Idempotency-Key of a request's refund: one per request
 * and attempt (an attempt after a failed refund follows that refund's id).
 */
const refundKey = (row: AfterSalesRequest) => `after-sales:${row.id}:${row.refundId ?? 0}`;

export interface CreatedRequest {
  request: AfterSalesView;
  replayed: boolean;
}

/**
 * After-sales requests (docs/after-sales.md). Every status change is one
 * guarded UPDATE (`WHERE status = <from>`); the unique key on
 * `open_order_id` allows one open request per order. Decisions that move
 * money lock the order row first (as the refund engine does), then the
 * request, so they queue behind each other and behind the order's other
 * transitions. Refunds go through the payments module's engine.
 */
@Injectable()
export class AfterSalesService {
  private readonly windowMs: number;

  constructor(
    private readonly transactions: Transactions,
    private readonly consistency: ConsistencyService,
    private readonly outbox: OutboxWriter,
    private readonly audit: AuditLog,
    private readonly orders: OrdersService,
    private readonly transitions: OrderTransitions,
    private readonly refunds: RefundsService,
    @InjectRepository(AfterSalesRequest) private readonly requests: Repository<AfterSalesRequest>,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.windowMs = config.afterSales.days * 86_400_000;
  }

  /**
   * The buyer's request on their order. The same Idempotency-Key and body is
   * the same request (`replayed`); the same key with another body, 409.
   */
  async create(
    userId: number,
    orderId: number,
    key: string,
    dto: CreateAfterSalesDto,
  ): Promise<CreatedRequest> {
    const hash = requestHash(orderId, dto);
    const earlier = await this.byKey(userId, key);
    if (earlier) return this.replay(earlier, hash);
    try {
      const request = await this.transactions.run(async (m) => {
        // Locked: what is refundable and whether a request is open are read
        // after any concurrent refund or request on the order committed.
        const order = await this.transitions.lock(m, orderId);
        if (order?.userId !== userId) throw new AppError('NOT_FOUND', 'order not found');
        await this.assertRequestable(m, order);
        const refundable = await this.refunds.refundableCents(m, order);
        const amountCents = dto.amountCents ?? refundable;
        if (refundable < 1) throw notAllowed('nothing is left to refund on this order');
        if (amountCents > refundable) {
          throw aboveRefundable(refundable);
        }
        const inserted = await m.insert(AfterSalesRequest, {
          orderId,
          userId,
          type: dto.type,
          status: 'requested',
          openOrderId: orderId,
          amountCents,
          reason: dto.reason,
          description: dto.description ?? null,
          idempotencyKey: key,
          requestHash: hash,
        });
        return m.findOneByOrFail(AfterSalesRequest, { id: Number(inserted.identifiers[0].id) });
      });
      return { request: toAfterSalesView(request), replayed: false };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Either a retry with the same key won the race, or another request
      // opened on the order meanwhile (the unique key on open_order_id).
      const winner = await this.byKey(userId, key);
      if (winner) return this.replay(winner, hash);
      throw notAllowed('the order already has an open after-sales request');
    }
  }

  /** The order's requests, newest first; another user's order is a 404. */
  async listForOrder(userId: number, orderId: number): Promise<AfterSalesView[]> {
    await this.orders.ownOrder(userId, orderId);
    const rows = await this.requests.find({ where: { orderId }, order: { id: 'DESC' } });
    return rows.map(toAfterSalesView);
  }

  /** The buyer sent the goods of an approved return_refund back: approved → returning. */
  returnShipment(userId: number, id: number, dto: ReturnShipmentDto): Promise<AfterSalesView> {
    return this.transactions.run(async (m) => {
      const row = await this.ownRequest(m, userId, id);
      if (row.type !== 'return_refund') {
        throw new AppError('CONFLICT', 'only a return_refund request takes a return shipment');
      }
      await this.move(m, row, 'approved', {
        status: 'returning',
        returnCarrier: dto.carrier,
        returnTrackingNo: dto.trackingNo,
      });
      return this.viewOf(m, id);
    });
  }

  /** The buyer withdraws a request staff have not decided yet: requested → cancelled. */
  cancel(userId: number, id: number): Promise<AfterSalesView> {
    return this.transactions.run(async (m) => {
      const row = await this.ownRequest(m, userId, id);
      await this.move(m, row, 'requested', { status: 'cancelled', openOrderId: null });
      return this.viewOf(m, id);
    });
  }

  /** The staff queue: one status (default: every open request), oldest first. */
  async queue(
    status: AfterSalesStatus | undefined,
    after: string | undefined,
    limit: number,
  ): Promise<AfterSalesPage> {
    const from = cursor.decode(after);
    const rows = await this.requests.find({
      where: {
        status: status ?? In([...OPEN_STATUSES]),
        ...(from === undefined ? {} : { id: MoreThan(from) }),
      },
      order: { id: 'ASC' },
      take: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map(toAfterSalesView),
      nextCursor: rows.length > limit ? cursor.encode(page[page.length - 1].id) : null,
    };
  }

  /**
   * Staff approve: a `refund` starts its refund in the same transaction
   * (requested → refunding); a `return_refund` waits for the goods
   * (requested → approved). The amount is at most what is refundable.
   */
  approve(staffId: number, id: number, dto: ApproveAfterSalesDto): Promise<AfterSalesView> {
    return this.transactions.run(async (m) => {
      const row = await this.request(m, id);
      const order = await this.lockOrder(m, row.orderId);
      const approvedCents = dto.amountCents ?? row.amountCents;
      if (row.type === 'refund') {
        await this.move(m, row, 'requested', {
          status: 'refunding',
          approvedCents,
          decidedBy: staffId,
        });
        await this.startRefund(m, row, approvedCents, staffId);
      } else {
        const refundable = await this.refunds.refundableCents(m, order);
        if (approvedCents > refundable) {
          throw aboveRefundable(refundable);
        }
        await this.move(m, row, 'requested', {
          status: 'approved',
          approvedCents,
          decidedBy: staffId,
        });
      }
      return this.decided(m, row, staffId, 'after_sales.approve', AFTER_SALES_EVENTS.approved, {
        approvedCents,
      });
    });
  }

  /** Staff reject a request they have not decided yet: requested → rejected (closed). */
  reject(staffId: number, id: number, dto: RejectAfterSalesDto): Promise<AfterSalesView> {
    return this.transactions.run(async (m) => {
      const row = await this.request(m, id);
      await this.move(m, row, 'requested', {
        status: 'rejected',
        openOrderId: null,
        rejectReason: dto.reason,
        decidedBy: staffId,
      });
      return this.decided(m, row, staffId, 'after_sales.reject', AFTER_SALES_EVENTS.rejected, {
        rejectReason: dto.reason,
      });
    });
  }

  /**
   * The returned goods arrived: returning → received → refunding in one
   * transaction (the refund starts with the receipt, so `received` is never
   * left behind); if the refund cannot start, nothing changes (409). The
   * refund is the approved amount, or what is left to refund if an admin
   * refund took some of it since the approval.
   */
  receive(staffId: number, id: number): Promise<AfterSalesView> {
    return this.transactions.run(async (m) => {
      const row = await this.request(m, id);
      const order = await this.lockOrder(m, row.orderId);
      const left = await this.refunds.refundableCents(m, order);
      const amountCents = Math.min(row.approvedCents ?? row.amountCents, left);
      await this.move(m, row, 'returning', {
        status: 'refunding',
        approvedCents: amountCents,
        decidedBy: staffId,
      });
      await this.startRefund(m, row, amountCents, staffId);
      const after = await this.viewOf(m, id);
      await this.audit.record(m, {
        actorId: staffId,
        action: 'after_sales.receive',
        target: `after_sales:${id}`,
        before: { status: 'returning' },
        after: { status: after.status, received: true, approvedCents: after.approvedCents },
      });
      return after;
    });
  }

  /**
   * The refund engine settled a refund (`order.refunded`): the request it
   * belongs to, if any, is refunded (closed), once however often the event
   * is delivered.
   */
  async settled(m: EntityManager, refundId: number): Promise<void> {
    const row = await m.findOneBy(AfterSalesRequest, { refundId });
    if (!row) return;
    const changed = await this.update(m, row.id, 'refunding', {
      status: 'refunded',
      openOrderId: null,
    });
    if (!changed) return;
    await this.outbox.append(
      m,
      afterSalesEvent(AFTER_SALES_EVENTS.refunded, {
        afterSalesId: row.id,
        orderId: row.orderId,
        userId: row.userId,
        amountCents: row.approvedCents ?? row.amountCents,
        reason: null,
      }),
    );
  }

  /**
   * WeChat Pay closed or refused the request's refund (the order is back
   * where it was): the request goes back to where staff decide, a `refund`
   * to `requested` (approve again, or reject), a `return_refund` to
   * `returning` (receive again). Once, like `settled`.
   */
  async refundFailed(m: EntityManager, refundId: number): Promise<void> {
    const row = await m.findOneBy(AfterSalesRequest, { refundId });
    if (!row) return;
    await this.update(m, row.id, 'refunding', {
      status: row.type === 'refund' ? 'requested' : 'returning',
    });
  }

  /**
   * Requests are allowed on paid, shipped and completed orders; on a
   * completed one only within AFTER_SALES_DAYS of its completion; and one
   * open at a time.
   */
  private async assertRequestable(m: EntityManager, order: Order): Promise<void> {
    if (!REQUESTABLE.includes(order.status)) {
      throw notAllowed(`no after-sales on a ${order.status} order`);
    }
    if (order.status === 'completed') {
      const completion = await m.findOne(OrderTimelineEntry, {
        where: { orderId: order.id, toStatus: 'completed' },
        order: { id: 'DESC' },
      });
      const completedAt = completion?.createdAt.getTime() ?? order.updatedAt.getTime();
      if (Date.now() > completedAt + this.windowMs) {
        throw notAllowed('the after-sales period of this order has ended');
      }
    }
    const open = await m.findOneBy(AfterSalesRequest, { openOrderId: order.id });
    if (open) throw notAllowed('the order already has an open after-sales request');
  }

  private async startRefund(
    m: EntityManager,
    row: AfterSalesRequest,
    amountCents: number,
    staffId: number,
  ): Promise<void> {
    const refundId = await this.refunds.startWithin(m, row.orderId, {
      key: refundKey(row),
      amountCents,
      reason: row.reason,
      staffId,
    });
    await m.update(AfterSalesRequest, { id: row.id }, { refundId });
  }

  /** The audit row and the outbox event of an approval or a rejection. */
  private async decided(
    m: EntityManager,
    row: AfterSalesRequest,
    staffId: number,
    action: 'after_sales.approve' | 'after_sales.reject',
    event: (typeof AFTER_SALES_EVENTS)['approved' | 'rejected'],
    details: Record<string, unknown>,
  ): Promise<AfterSalesView> {
    const after = await this.viewOf(m, row.id);
    await this.audit.record(m, {
      actorId: staffId,
      action,
      target: `after_sales:${row.id}`,
      before: { status: 'requested', amountCents: row.amountCents },
      after: { status: after.status, ...details },
    });
    await this.outbox.append(
      m,
      afterSalesEvent(event, {
        afterSalesId: row.id,
        orderId: row.orderId,
        userId: row.userId,
        amountCents: after.approvedCents,
        reason: after.rejectReason,
      }),
    );
    return after;
  }

  /** `from` → the changes, or 409 naming the status it has. */
  private async move(
    m: EntityManager,
    row: AfterSalesRequest,
    from: AfterSalesStatus,
    changes: Partial<AfterSalesRequest> & { status: AfterSalesStatus },
  ): Promise<void> {
    if (await this.update(m, row.id, from, changes)) return;
    const now = await m.findOneByOrFail(AfterSalesRequest, { id: row.id });
    throw new AppError(
      'CONFLICT',
      `the request must be ${from} to become ${changes.status} (it is ${now.status})`,
    );
  }

  /** One guarded UPDATE: true when this call made the change. */
  private async update(
    m: EntityManager,
    id: number,
    from: AfterSalesStatus,
    changes: Partial<AfterSalesRequest>,
  ): Promise<boolean> {
    const result = await m
      .createQueryBuilder()
      .update(AfterSalesRequest)
      .set(changes)
      .where('id = :id AND status = :from', { id, from })
      .execute();
    return result.affected === 1;
  }

  private async lockOrder(m: EntityManager, orderId: number): Promise<Order> {
    const order = await this.transitions.lock(m, orderId);
    if (!order) throw new AppError('NOT_FOUND', 'order not found');
    return order;
  }

  private async request(m: EntityManager, id: number): Promise<AfterSalesRequest> {
    const row = await m.findOneBy(AfterSalesRequest, { id });
    if (!row) throw new AppError('NOT_FOUND', 'after-sales request not found');
    return row;
  }

  private async ownRequest(
    m: EntityManager,
    userId: number,
    id: number,
  ): Promise<AfterSalesRequest> {
    const row = await m.findOneBy(AfterSalesRequest, { id, userId });
    if (!row) throw new AppError('NOT_FOUND', 'after-sales request not found');
    return row;
  }

  private async viewOf(m: EntityManager, id: number): Promise<AfterSalesView> {
    return toAfterSalesView(await m.findOneByOrFail(AfterSalesRequest, { id }));
  }

  private replay(earlier: AfterSalesRequest, hash: string): CreatedRequest {
    if (earlier.requestHash !== hash) {
      throw new AppError('CONFLICT', 'Idempotency-Key was already used with a different request');
    }
    return { request: toAfterSalesView(earlier), replayed: true };
  }

  private byKey(userId: number, idempotencyKey: string): Promise<AfterSalesRequest | null> {
    return this.consistency.primaryReads(() => this.requests.findOneBy({ userId, idempotencyKey }));
  }
}
