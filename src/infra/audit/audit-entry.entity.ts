import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One staff write (docs/audit.md): who did what to which row, with small
 * snapshots of the changed fields. Inserted in the transaction of the change
 * it records, never updated.
 */
@Entity({ name: 'audit_log' })
@Index('idx_audit_log_actor', ['actorId', 'id'])
export class AuditEntry {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  /** The staff user's id; null for the command line (`npm run admin`), which has no user. */
  @Column({ name: 'actor_id', type: 'integer', nullable: true })
  actorId: number | null;

  /** `<thing>.<verb>`, e.g. `order.ship` (docs/audit.md lists them). */
  @Column({ type: 'varchar', length: 40 })
  action: string;

  /** `<kind>:<id>`, e.g. `order:42`. */
  @Column({ type: 'varchar', length: 120 })
  target: string;

  /** JSON of the changed fields before and after; null where there was no before (a create) or no after. */
  @Column({ type: 'text', nullable: true })
  before: string | null;

  @Column({ type: 'text', nullable: true })
  after: string | null;

  /** The X-Request-Id of the request that made the change. */
  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId: string | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;
}
