import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** The audit trail of the runtime settings: one row per change, never updated. */
@Entity({ name: 'settings_changes' })
export class SettingsChange {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  /** The admin's user id. */
  @Column({ name: 'actor_id', type: 'integer' })
  actorId: number;

  /** The settings version this change produced. */
  @Column({ type: 'integer' })
  version: number;

  /** JSON of the whole settings before and after the change. */
  @Column({ type: 'text' })
  before: string;

  @Column({ type: 'text' })
  after: string;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;
}
