import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** The one row (id 1) of the operator's runtime settings. */
export const SETTINGS_ROW_ID = 1;

/**
 * The runtime settings of the whole deployment, as JSON. `version` grows by
 * one on every change: replicas apply a snapshot only if it is newer than
 * theirs, and a change is written only over the version it was made from.
 */
@Entity({ name: 'runtime_settings' })
export class RuntimeSettingsRow {
  @PrimaryColumn({ type: 'integer' })
  id: number;

  @Column({ type: 'integer' })
  version: number;

  /** JSON of the Settings (settings.model.ts). */
  @Column({ type: 'text' })
  value: string;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt: Date;
}
