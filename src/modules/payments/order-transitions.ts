import type { EntityManager } from 'typeorm';
import { Order, type OrderStatus } from '../orders/index.js';

// Every order transition of the payment flow is one guarded UPDATE: the
// status it starts from is in the WHERE clause and the affected-row count
// says whether this caller won. Concurrent callers queue on the row lock, and
// a loser reads the winner's result instead of applying its own.

/**
 * Reads the order and locks its row (SELECT … FOR UPDATE on MySQL/MariaDB)
 * as the first statement of a transaction: the decisions that follow
 * (amounts, what to do when a guard fails) then see the current row, not a
 * REPEATABLE READ snapshot older than a concurrent cancel or payment. The
 * embedded engine runs one transaction at a time and needs no lock.
 */
export function lockOrder(m: EntityManager, orderId: number): Promise<Order | null> {
  const query = m.createQueryBuilder(Order, 'o').where('o.id = :orderId', { orderId });
  const type = m.connection.options.type;
  if (type === 'mysql' || type === 'mariadb') query.setLock('pessimistic_write');
  return query.getOne();
}

/** `from` → `to`; true when this call made the change. */
export async function transition(
  m: EntityManager,
  orderId: number,
  from: readonly OrderStatus[],
  to: OrderStatus,
): Promise<boolean> {
  const result = await m
    .createQueryBuilder()
    .update(Order)
    .set({ status: to })
    .where('id = :orderId AND status IN (:...from)', { orderId, from })
    .execute();
  return result.affected === 1;
}

/**
 * A refund of `amount` confirmed by WeChat Pay on a `refunding` order: it is
 * `refunded` once everything paid came back, else back to `resume`. The
 * status is assigned before refunded_cents, so on MySQL (which assigns left
 * to right) and SQLite alike the CASE reads the old refunded_cents.
 */
export async function settleRefund(
  m: EntityManager,
  orderId: number,
  amount: number,
  paidCents: number,
  resume: OrderStatus,
): Promise<boolean> {
  const result = await m
    .createQueryBuilder()
    .update(Order)
    .set({
      status: () => 'CASE WHEN refunded_cents + :amount >= :paid THEN :refunded ELSE :resume END',
      refundedCents: () => 'refunded_cents + :amount',
    })
    .where('id = :orderId AND status = :refunding', { orderId, refunding: 'refunding' })
    .setParameters({ amount, paid: paidCents, refunded: 'refunded', resume })
    .execute();
  return result.affected === 1;
}

/** The automatic refund of a payment that reached a cancelled order: it stays cancelled. */
export async function addRefundedToCancelled(
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
