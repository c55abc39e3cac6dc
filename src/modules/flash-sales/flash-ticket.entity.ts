import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export type TicketStatus = 'queued' | 'placed' | 'failed';

/**
 * The database's record of one admission. Rows are written by the batch
 * persister only, in the transaction that decides them (see
 * FlashPersister): a row is `placed` (with its order) or `failed` (with a
 * reason); `queued` is what a ticket is before it has a row.
 */
@Entity({ name: 'flash_tickets' })
// A replayed batch inserts nothing twice: one row per (sale, user, key).
@Index('uq_flash_tickets_sale_user_key', ['saleId', 'userId', 'idempotencyKey'], { unique: true })
export class FlashTicket {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  ticket: string;

  @Column({ name: 'sale_id', type: 'integer' })
  saleId: number;

  @Column({ name: 'user_id', type: 'integer' })
  userId: number;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 64 })
  idempotencyKey: string;

  @Column({ type: 'integer' })
  quantity: number;

  @Column({ type: 'varchar', length: 16 })
  status: TicketStatus;

  @Column({ name: 'order_id', type: 'integer', nullable: true })
  orderId: number | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  reason: string | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;
}
