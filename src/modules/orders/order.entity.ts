import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/** `paid`, `shipped`… belong to a payment flow that is not built yet. */
export const ORDER_STATUSES = ['pending', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

@Entity({ name: 'orders' })
// Serves "my orders, newest first" and the ownership check of every order read.
@Index('idx_orders_user_id', ['userId', 'id'])
// One order per idempotency key and user, enforced by the database so that
// two app replicas racing on the same key cannot both create one.
@Index('uq_orders_user_idempotency_key', ['userId', 'idempotencyKey'], { unique: true })
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

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt: Date;
}
