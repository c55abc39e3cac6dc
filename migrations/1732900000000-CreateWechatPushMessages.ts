import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { datetimeColumn, idColumn } from './support/columns.js';

/** Every message WeChat pushed, once per dedup key (MsgId, or the event's own fields). */
export class CreateWechatPushMessages1732900000000 implements MigrationInterface {
  name = 'CreateWechatPushMessages1732900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'wechat_push_messages',
        columns: [
          idColumn(),
          { name: 'dedup_key', type: 'varchar', length: '80' },
          { name: 'msg_type', type: 'varchar', length: '32' },
          { name: 'name', type: 'varchar', length: '64' },
          { name: 'from_user', type: 'varchar', length: '64', isNullable: true },
          { name: 'create_time', type: 'bigint', isNullable: true },
          { name: 'payload', type: 'text' },
          datetimeColumn('received_at'),
        ],
        indices: [
          new TableIndex({
            name: 'uq_wechat_push_messages_dedup',
            columnNames: ['dedup_key'],
            isUnique: true,
          }),
          // Staff list one event (the reminders), newest first.
          new TableIndex({ name: 'idx_wechat_push_messages_name', columnNames: ['name', 'id'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('wechat_push_messages');
  }
}
