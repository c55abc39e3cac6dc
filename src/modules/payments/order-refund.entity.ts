import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/** `requested` until WeChat Pay accepts it, then `processing`; the rest are final. */
export type RefundState = 'requested' | 'processing' | 'success' | 'closed' | 'abnormal';

/**
 * One refund of an order. `out_refund_no` is made when the row is written and
 * never changes, so every retry (of the admin's request, of the job calling
 * WeChat Pay) asks WeChat Pay for the same refund.
 */
@Entity({ name: 'order_refunds' })
@Index('uq_order_refunds_out_refund_no', ['outRefundNo'], { unique: true })
// One refund per Idempotency-Key and order (the automatic one has a key of its own).
@Index('uq_order_refunds_order_key', ['orderId', 'idempotencyKey'], { unique: true })
export class OrderRefund {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'order_id', type: 'integer' })
  orderId: number;

  @Column({ name: 'out_refund_no', type: 'varchar', length: 64 })
  outRefundNo: string;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 64 })
  idempotencyKey: string;

  @Column({ name: 'request_hash', type: 'varchar', length: 64 })
  requestHash: string;

  @Column({ name: 'amount_cents', type: 'integer' })
  amountCents: number;

  @Column({ type: 'varchar', length: 80, nullable: true })
  reason: string | null;

  @Column({ type: 'varchar', length: 16, default: 'requested' })
  state: RefundState;

  /** The order status to return to when a partial refund settles or a refund fails. */
  @Column({ name: 'resume_status', type: 'varchar', length: 16 })
  resumeStatus: string;

  @Column({ name: 'refund_id', type: 'varchar', length: 64, nullable: true })
  refundId: string | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt: Date;
}
