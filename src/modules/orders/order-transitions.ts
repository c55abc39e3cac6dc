import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { forUpdate, insertMany } from '../../infra/database/index.js';
import type { OrderActor } from './order-actors.js';
import { OrderTimelineEntry } from './order-timeline.entity.js';
import { Order, type CancelReason, type OrderStatus } from './order.entity.js';

export interface AllowedTransition {
  /** Null: the order is being placed. */
  from: OrderStatus | null;
  to: OrderStatus;
  actors: readonly OrderActor[];
}

/**
 * Every status change an order may make, and who may cause it; anything
 * else is refused before the database is asked. New paths of the lifecycle
 * are a row here and a caller of `apply`.
 */
export const ORDER_TRANSITIONS: readonly AllowedTransition[] = [
  { from: null, to: 'pending', actors: ['user', 'flash_sale'] },
  { from: 'pending', to: 'paid', actors: ['payment'] },
  { from: 'pending', to: 'cancelled', actors: ['user', 'staff', 'timer'] },
  { from: 'paid', to: 'shipped', actors: ['staff'] },
  // An order of only virtual goods is delivered by its payment: the payment
  // applier completes it in the same transaction, nobody ships anything.
  { from: 'paid', to: 'completed', actors: ['payment'] },
  { from: 'shipped', to: 'completed', actors: ['timer', 'user', 'wechat'] },
  { from: 'paid', to: 'refunding', actors: ['staff'] },
  { from: 'shipped', to: 'refunding', actors: ['staff'] },
  // An approved after-sales request (docs/after-sales.md) refunds a
  // completed order too; the refund returns it to completed unless all of it
  // came back.
  { from: 'completed', to: 'refunding', actors: ['staff'] },
  // Settled by WeChat Pay's answer: everything paid came back, or a partial
  // or failed refund returns the order to where it was.
  { from: 'refunding', to: 'refunded', actors: ['refund'] },
  { from: 'refunding', to: 'paid', actors: ['refund'] },
  { from: 'refunding', to: 'shipped', actors: ['refund'] },
  { from: 'refunding', to: 'completed', actors: ['refund'] },
];

export function isAllowed(from: OrderStatus | null, to: OrderStatus, actor: OrderActor): boolean {
  return ORDER_TRANSITIONS.some((t) => t.from === from && t.to === to && t.actors.includes(actor));
}

/** A caller asked for a transition the table does not have: a bug, never a user error. */
export class TransitionRefused extends Error {
  override name = 'TransitionRefused';

  constructor(from: OrderStatus | null, to: OrderStatus, actor: OrderActor) {
    super(`order transition ${from ?? '(new)'} → ${to} by ${actor} is not allowed`);
  }
}

export interface Transition {
  orderId: number;
  from: OrderStatus;
  to: OrderStatus;
  actor: OrderActor;
  /** The user or staff member behind it, when there is one. */
  actorId?: number | null;
  reason?: string | null;
  /** Written by the same UPDATE (a cancel). */
  cancelReason?: CancelReason;
  /** Added to refunded_cents by the same UPDATE (a settled refund). */
  addRefundedCents?: number;
}

/** An order just inserted as `pending`, for its first timeline row. */
export interface PlacedEntry {
  orderId: number;
  actor: OrderActor;
  actorId: number | null;
  createdAt: Date;
}

/** The longest reason the timeline keeps (its column). */
const REASON_LENGTH = 80;

/**
 * The one writer of an order's status and refunded_cents. Every change is
 * one guarded UPDATE (`WHERE id = ? AND status = <from>`): concurrent
 * callers queue on the row lock and only the first still finds `from`; the
 * affected-row count says whether this call won, and the winner's timeline
 * row is written in the same transaction.
 */
@Injectable()
export class OrderTransitions {
  /** `from` → `to`; true when this call made the change. Throws TransitionRefused off the table. */
  async apply(m: EntityManager, t: Transition): Promise<boolean> {
    if (!isAllowed(t.from, t.to, t.actor)) throw new TransitionRefused(t.from, t.to, t.actor);
    const query = m
      .createQueryBuilder()
      .update(Order)
      .set({
        status: t.to,
        ...(t.cancelReason ? { cancelReason: t.cancelReason } : {}),
        ...(t.addRefundedCents !== undefined
          ? { refundedCents: () => 'refunded_cents + :added' }
          : {}),
      })
      .where('id = :orderId AND status = :from', { orderId: t.orderId, from: t.from });
    if (t.addRefundedCents !== undefined) query.setParameter('added', t.addRefundedCents);
    const result = await query.execute();
    if (result.affected !== 1) return false;
    await insertMany(m, OrderTimelineEntry, [
      {
        orderId: t.orderId,
        fromStatus: t.from,
        toStatus: t.to,
        actor: t.actor,
        actorId: t.actorId ?? null,
        reason: t.reason ? t.reason.slice(0, REASON_LENGTH) : null,
        createdAt: new Date(),
      },
    ]);
    return true;
  }

  /**
   * The first timeline row of orders the caller just inserted as `pending`,
   * one statement for all of them (the flash persister's batch).
   */
  async placed(m: EntityManager, entries: readonly PlacedEntry[]): Promise<void> {
    for (const e of entries) {
      if (!isAllowed(null, 'pending', e.actor))
        throw new TransitionRefused(null, 'pending', e.actor);
    }
    await insertMany(
      m,
      OrderTimelineEntry,
      entries.map((e) => ({
        orderId: e.orderId,
        fromStatus: null,
        toStatus: 'pending' as const,
        actor: e.actor,
        actorId: e.actorId,
        reason: null,
        createdAt: e.createdAt,
      })),
    );
  }

  /**
   * Reads the order and locks its row (SELECT … FOR UPDATE on MySQL/MariaDB)
   * as the first statement of a transaction: the decisions that follow
   * (amounts, what to do when a guard fails) then see the current row, not a
   * REPEATABLE READ snapshot older than a concurrent cancel or payment. The
   * embedded engine runs one transaction at a time and needs no lock.
   */
  lock(m: EntityManager, orderId: number): Promise<Order | null> {
    return forUpdate(
      m,
      m.createQueryBuilder(Order, 'o').where('o.id = :orderId', { orderId }),
    ).getOne();
  }

  /**
   * A refund of `amount` confirmed by WeChat Pay on a `refunding` order: it
   * is `refunded` once everything paid came back, else back to `resume`.
   * False when the order is not refunding (already settled).
   */
  async settleRefund(
    m: EntityManager,
    refund: { orderId: number; amount: number; paidCents: number; resume: OrderStatus },
  ): Promise<boolean> {
    // Locked, so the refunded total the target is computed from is current.
    const order = await this.lock(m, refund.orderId);
    if (order?.status !== 'refunding') return false;
    const to = order.refundedCents + refund.amount >= refund.paidCents ? 'refunded' : refund.resume;
    return this.apply(m, {
      orderId: refund.orderId,
      from: 'refunding',
      to,
      actor: 'refund',
      reason: `refunded ${refund.amount} cents`,
      addRefundedCents: refund.amount,
    });
  }

  /**
   * The automatic refund of a payment that reached a cancelled order: it
   * stays cancelled (no status change, so no timeline row); only
   * refunded_cents grows.
   */
  async addRefundedToCancelled(
    m: EntityManager,
    orderId: number,
    amount: number,
  ): Promise<boolean> {
    const result = await m
      .createQueryBuilder()
      .update(Order)
      .set({ refundedCents: () => 'refunded_cents + :amount' })
      .where('id = :orderId AND status = :cancelled', { orderId, cancelled: 'cancelled' })
      .setParameters({ amount })
      .execute();
    return result.affected === 1;
  }
}
