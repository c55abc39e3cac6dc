import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { OrderStatus } from './order.entity.js';
import type { OrderActor } from './order-actors.js';

/**
 * One status change of an order, written in the transaction of the change by
 * `OrderTransitions` only: the order's history as the back office shows it.
 * (Not the outbox's `order.*` events, which feed consumers and are deleted
 * once relayed.)
 */
@Entity({ name: 'order_events' })
// An order's timeline, oldest first.
@Index('idx_order_events_order_id', ['orderId', 'id'])
export class OrderTimelineEntry {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'order_id', type: 'integer' })
  orderId: number;

  /** Null for the placing of the order. */
  @Column({ name: 'from_status', type: 'varchar', length: 16, nullable: true })
  fromStatus: OrderStatus | null;

  @Column({ name: 'to_status', type: 'varchar', length: 16 })
  toStatus: OrderStatus;

  @Column({ type: 'varchar', length: 16 })
  actor: OrderActor;

  /** The user or staff member who caused it; null for WeChat Pay, timers and the refund engine. */
  @Column({ name: 'actor_id', type: 'integer', nullable: true })
  actorId: number | null;

  @Column({ type: 'varchar', length: 80, nullable: true })
  reason: string | null;

  /** Written by the app, not defaulted: SQLite's datetime('now') has whole seconds only. */
  @Column({ name: 'created_at', type: 'datetime', precision: 6 })
  createdAt: Date;
}
