import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/**
 * A product sold at `priceCents` for `stock` units between `startsAt` and
 * `endsAt`. The units were taken off the product's stock when the sale was
 * created; `remaining` is what the database has not yet turned into orders
 * (the SQL guard below Redis: it never goes below zero), and what goes back
 * to the product when the sale is settled.
 */
@Entity({ name: 'flash_sales' })
// The settlement sweeper's scan: sales not settled yet, by end time.
@Index('idx_flash_sales_settled_ends', ['settledAt', 'endsAt'])
export class FlashSale {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'product_id', type: 'integer' })
  productId: number;

  @Column({ name: 'product_name', type: 'varchar', length: 100 })
  productName: string;

  @Column({ name: 'price_cents', type: 'integer' })
  priceCents: number;

  @Column({ type: 'integer' })
  stock: number;

  @Column({ type: 'integer' })
  remaining: number;

  @Column({ name: 'per_user_limit', type: 'integer' })
  perUserLimit: number;

  @Column({ name: 'starts_at', type: 'datetime', precision: 6 })
  startsAt: Date;

  @Column({ name: 'ends_at', type: 'datetime', precision: 6 })
  endsAt: Date;

  /** When the unsold units went back to the product; null until then (set exactly once). */
  @Column({ name: 'settled_at', type: 'datetime', precision: 6, nullable: true })
  settledAt: Date | null;

  @Column({ name: 'returned_units', type: 'integer', default: 0 })
  returnedUnits: number;

  /**
   * Redis stock buckets of the sale (FLASH_STOCK_BUCKETS when it was
   * created): fixed for its life, since a buyer's bucket is derived from it.
   */
  @Column({ name: 'stock_buckets', type: 'integer', default: 1 })
  stockBuckets: number;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt: Date;
}
