import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One domain event, written in the transaction of the state change that
 * caused it (the transactional outbox). The relay publishes unpublished rows
 * in id order and stamps `publishedAt`; published rows are purged later.
 */
@Entity({ name: 'outbox' })
// The relay's scan: unpublished rows, oldest first.
@Index('idx_outbox_unpublished', ['publishedAt', 'id'])
// Consumers keep per-aggregate order by looking for earlier events of theirs.
@Index('idx_outbox_aggregate', ['aggregateType', 'aggregateId', 'id'])
export class OutboxEvent {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  /** `order.placed`, `user.registered`… */
  @Column({ type: 'varchar', length: 64 })
  type: string;

  /** `order`, `user`…: with `aggregateId`, the thing whose events stay in order. */
  @Column({ name: 'aggregate_type', type: 'varchar', length: 32 })
  aggregateType: string;

  @Column({ name: 'aggregate_id', type: 'varchar', length: 64 })
  aggregateId: string;

  /** JSON of the event's payload. */
  @Column({ type: 'text' })
  payload: string;

  /** X-Request-Id of the request that caused the event, for the logs of its jobs. */
  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId: string | null;

  /** W3C traceparent of the span that wrote the event: its jobs continue that trace. */
  @Column({ type: 'varchar', length: 55, nullable: true })
  traceparent: string | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @Column({ name: 'published_at', type: 'datetime', precision: 6, nullable: true })
  publishedAt: Date | null;
}
