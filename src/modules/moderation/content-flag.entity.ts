import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/** What was flagged: a user's nickname or avatar (its URL), or an order's remark. */
export type ContentKind = 'nickname' | 'order_remark' | 'avatar';
/**
 * `review`: WeChat asked for a human look; `unchecked`: WeChat could not
 * answer (fail-open); `risky`: an image WeChat found risky after it was
 * stored (it has been removed).
 */
export type FlagReason = 'review' | 'unchecked' | 'risky';
export type FlagStatus = 'open' | 'cleared';

/** Stored text an admin should look at, with a copy of the text as it was checked. */
@Entity({ name: 'content_flags' })
// Serves the admin list: open (or cleared) flags, newest first.
@Index('idx_content_flags_status', ['status', 'id'])
export class ContentFlag {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ type: 'varchar', length: 16 })
  kind: ContentKind;

  /** The user id of a nickname, the order id of a remark. */
  @Column({ name: 'ref_id', type: 'integer' })
  refId: number;

  @Column({ name: 'user_id', type: 'integer' })
  userId: number;

  @Column({ type: 'varchar', length: 200 })
  content: string;

  @Column({ type: 'varchar', length: 16 })
  reason: FlagReason;

  /** WeChat's label (100 normal, 20001 politics, 21000 other, …); null when unchecked. */
  @Column({ type: 'integer', nullable: true })
  label: number | null;

  @Column({ type: 'varchar', length: 16, default: 'open' })
  status: FlagStatus;

  @Column({ name: 'cleared_by', type: 'integer', nullable: true })
  clearedBy: number | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt: Date;
}
