import { CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * "Consumer X has applied event N": inserted in the transaction of the
 * consumer's effect, so a redelivered event finds its row and changes nothing.
 */
@Entity({ name: 'processed_events' })
export class ProcessedEvent {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  consumer: string;

  @PrimaryColumn({ name: 'event_id', type: 'integer' })
  eventId: number;

  @CreateDateColumn({ name: 'processed_at' })
  processedAt: Date;
}
