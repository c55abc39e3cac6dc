import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export const AFTER_SALES_TYPES = ['refund', 'return_refund'] as const;
export type AfterSalesType = (typeof AFTER_SALES_TYPES)[number];

export const AFTER_SALES_STATUSES = [
  'requested',
  'approved',
  'rejected',
  'cancelled',
  'returning',
  'received',
  'refunding',
  'refunded',
] as const;
export type AfterSalesStatus = (typeof AFTER_SALES_STATUSES)[number];

/** A request is open until it is rejected, cancelled or refunded. */
export const OPEN_STATUSES: readonly AfterSalesStatus[] = [
  'requested',
  'approved',
  'returning',
  'received',
  'refunding',
];

/**
 * A buyer's after-sales request (docs/after-sales.md). `open_order_id` is the
 * order's id while the request is open and NULL once it is closed: its
 * unique key is what allows one open request per order, whatever races.
 */
@Entity({ name: 'after_sales' })
@Index('uq_after_sales_user_key', ['userId', 'idempotencyKey'], { unique: true })
@Index('uq_after_sales_open_order', ['openOrderId'], { unique: true })
@Index('idx_after_sales_order', ['orderId', 'id'])
@Index('idx_after_sales_status', ['status', 'id'])
@Index('idx_after_sales_refund', ['refundId'])
export class AfterSalesRequest {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'order_id', type: 'integer' })
  orderId: number;

  @Column({ name: 'user_id', type: 'integer' })
  userId: number;

  @Column({ type: 'varchar', length: 16 })
  type: AfterSalesType;

  @Column({ type: 'varchar', length: 16, default: 'requested' })
  status: AfterSalesStatus;

  @Column({ name: 'open_order_id', type: 'integer', nullable: true })
  openOrderId: number | null;

  /** What the buyer asks for; staff may approve less. */
  @Column({ name: 'amount_cents', type: 'integer' })
  amountCents: number;

  @Column({ type: 'varchar', length: 80 })
  reason: string;

  @Column({ type: 'varchar', length: 500, nullable: true })
  description: string | null;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 64 })
  idempotencyKey: string;

  @Column({ name: 'request_hash', type: 'varchar', length: 64 })
  requestHash: string;

  /** The amount staff approved (what the refund asks for). */
  @Column({ name: 'approved_cents', type: 'integer', nullable: true })
  approvedCents: number | null;

  @Column({ name: 'reject_reason', type: 'varchar', length: 200, nullable: true })
  rejectReason: string | null;

  /** The staff member of the last decision. */
  @Column({ name: 'decided_by', type: 'integer', nullable: true })
  decidedBy: number | null;

  @Column({ name: 'return_carrier', type: 'varchar', length: 32, nullable: true })
  returnCarrier: string | null;

  @Column({ name: 'return_tracking_no', type: 'varchar', length: 64, nullable: true })
  returnTrackingNo: string | null;

  /** The refund engine's row (order_refunds.id) once the refund started. */
  @Column({ name: 'refund_id', type: 'integer', nullable: true })
  refundId: number | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt: Date;
}
