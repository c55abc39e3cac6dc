import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

/**
 * How many subscribe messages of one template a user allowed: each
 * acceptance in wx.requestSubscribeMessage adds one, each message sent (or
 * refused by WeChat, 43101) spends one, through a guarded UPDATE.
 */
@Entity({ name: 'subscribe_credits' })
@Index('uq_subscribe_credits_user_template', ['userId', 'templateId'], { unique: true })
export class SubscribeCredit {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'user_id', type: 'integer' })
  userId: number;

  @Column({ name: 'template_id', type: 'varchar', length: 64 })
  templateId: string;

  @Column({ type: 'integer', default: 0 })
  credits: number;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt: Date;
}
