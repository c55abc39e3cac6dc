import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** `pending` until WeChat's verdict (or the sweeper giving up: `unchecked`). */
export type MediaCheckStatus = 'pending' | 'pass' | 'review' | 'risky' | 'unchecked';

/**
 * One asynchronous check of an image the API stored (an avatar), written in
 * the transaction that stored it. `trace_id` is WeChat's answer to the
 * request, the key its pushed verdict is matched by; a new request (the
 * first answer never came) replaces it.
 */
@Entity({ name: 'media_checks' })
@Index('uq_media_checks_trace', ['traceId'], { unique: true })
@Index('idx_media_checks_status', ['status', 'id'])
export class MediaCheck {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'user_id', type: 'integer' })
  userId: number;

  @Column({ type: 'varchar', length: 16 })
  kind: 'avatar';

  /** The URL as checked: the avatar is only removed while it is still this one. */
  @Column({ type: 'varchar', length: 512 })
  url: string;

  /** Null until WeChat accepted a request. */
  @Column({ name: 'trace_id', type: 'varchar', length: 64, nullable: true })
  traceId: string | null;

  @Column({ type: 'varchar', length: 16 })
  status: MediaCheckStatus;

  /** Requests WeChat accepted. */
  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'requested_at', type: 'datetime', precision: 6, nullable: true })
  requestedAt: Date | null;

  @Column({ name: 'created_at', type: 'datetime', precision: 6 })
  createdAt: Date;
}
