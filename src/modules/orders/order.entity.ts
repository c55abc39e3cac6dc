import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/**
 * The order lifecycle of docs/http-api.md; every change is one guarded UPDATE
 * (`WHERE status = …`).
 */
export const ORDER_STATUSES = [
  'pending',
  'paid',
  'shipped',
  'completed',
  'cancelled',
  'refunding',
  'refunded',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Why a `cancelled` order was cancelled; null for every other status. */
export const CANCEL_REASONS = ['user', 'payment_timeout', 'admin'] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

@Entity({ name: 'orders' })
// Serves "my orders, newest first" and the ownership check of every order read.
@Index('idx_orders_user_id', ['userId', 'id'])
// One order per idempotency key and user, enforced by the database so that
// two app replicas racing on the same key cannot both create one.
@Index('uq_orders_user_idempotency_key', ['userId', 'idempotencyKey'], { unique: true })
// The sweeper's scan for pending orders past their payment deadline.
@Index('idx_orders_status_pay_before', ['status', 'payBefore'])
// The back office finds orders by the consignee's phone or name.
@Index('idx_orders_address_phone', ['addressPhone'])
@Index('idx_orders_address_name', ['addressName'])
// The back office's list, newest first, with or without a status filter.
@Index('idx_orders_status_created_at', ['status', 'createdAt', 'id'])
@Index('idx_orders_created_at', ['createdAt', 'id'])
export class Order {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'user_id', type: 'integer' })
  userId: number;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: OrderStatus;

  @Column({ name: 'total_cents', type: 'integer' })
  totalCents: number;

  @Column({ type: 'varchar', length: 200, nullable: true })
  remark: string | null;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 64 })
  idempotencyKey: string;

  /** SHA-256 (hex) of the request body, to tell a retry from a reused key. */
  @Column({ name: 'request_hash', type: 'varchar', length: 64 })
  requestHash: string;

  /**
   * Placed at + ORDER_PAYMENT_TIMEOUT_S: a `pending` order not paid by then is
   * cancelled (`payment_timeout`). Nullable in the schema only so that the
   * migration could add it to existing rows, which it then dated.
   */
  @Column({ name: 'pay_before', type: 'datetime', precision: 6, nullable: true })
  payBefore: Date;

  @Column({ name: 'cancel_reason', type: 'varchar', length: 16, nullable: true })
  cancelReason: CancelReason | null;

  /** What WeChat Pay has confirmed refunding so far. */
  @Column({ name: 'refunded_cents', type: 'integer', default: 0 })
  refundedCents: number;

  // The order's own copy of its delivery address (null until one is set):
  // editing or deleting the address book never changes it.
  @Column({ name: 'address_name', type: 'varchar', length: 32, nullable: true })
  addressName: string | null;

  @Column({ name: 'address_phone', type: 'varchar', length: 20, nullable: true })
  addressPhone: string | null;

  @Column({ name: 'address_province', type: 'varchar', length: 32, nullable: true })
  addressProvince: string | null;

  @Column({ name: 'address_city', type: 'varchar', length: 32, nullable: true })
  addressCity: string | null;

  @Column({ name: 'address_district', type: 'varchar', length: 32, nullable: true })
  addressDistrict: string | null;

  @Column({ name: 'address_detail', type: 'varchar', length: 200, nullable: true })
  addressDetail: string | null;

  @Column({ name: 'address_postal_code', type: 'varchar', length: 6, nullable: true })
  addressPostalCode: string | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt: Date;
}
