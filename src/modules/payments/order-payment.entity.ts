import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * The WeChat Pay side of an order: its prepay (reused while valid) and, once
 * WeChat Pay confirms it, the money received. `transaction_id` is written
 * once (guarded `WHERE transaction_id IS NULL`): that write is what makes a
 * payment count exactly once however many notifications and queries report it.
 */
@Entity({ name: 'order_payments' })
@Index('uq_order_payments_out_trade_no', ['outTradeNo'], { unique: true })
export class OrderPayment {
  @PrimaryColumn({ name: 'order_id', type: 'integer' })
  orderId: number;

  @Column({ name: 'out_trade_no', type: 'varchar', length: 32 })
  outTradeNo: string;

  @Column({ name: 'prepay_id', type: 'varchar', length: 64, nullable: true })
  prepayId: string | null;

  @Column({ name: 'prepay_expires_at', type: 'datetime', precision: 6, nullable: true })
  prepayExpiresAt: Date | null;

  @Column({ name: 'transaction_id', type: 'varchar', length: 32, nullable: true })
  transactionId: string | null;

  @Column({ name: 'paid_cents', type: 'integer', nullable: true })
  paidCents: number | null;

  @Column({ name: 'paid_at', type: 'datetime', precision: 6, nullable: true })
  paidAt: Date | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt: Date;
}
