import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Every message WeChat pushed, once: the unique dedup key makes a repeat
 * (WeChat retries whatever it did not see answered within 5 s) insert
 * nothing, and the outbox event that carries its effect is written in the
 * same transaction as the row.
 */
@Entity({ name: 'wechat_push_messages' })
@Index('uq_wechat_push_messages_dedup', ['dedupKey'], { unique: true })
@Index('idx_wechat_push_messages_name', ['name', 'id'])
export class WechatPushMessage {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'dedup_key', type: 'varchar', length: 80 })
  dedupKey: string;

  @Column({ name: 'msg_type', type: 'varchar', length: 32 })
  msgType: string;

  /** The Event of an event message, else the MsgType. */
  @Column({ type: 'varchar', length: 64 })
  name: string;

  @Column({ name: 'from_user', type: 'varchar', length: 64, nullable: true })
  fromUser: string | null;

  /** WeChat's CreateTime (Unix seconds). */
  @Column({ name: 'create_time', type: 'bigint', nullable: true })
  createTime: string | null;

  /** The message as WeChat sent it (decrypted), as JSON. */
  @Column({ type: 'text' })
  payload: string;

  @Column({ name: 'received_at', type: 'datetime', precision: 6 })
  receivedAt: Date;
}
