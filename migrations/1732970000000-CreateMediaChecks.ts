import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { datetimeColumn, idColumn, nullableDatetimeColumn } from './support/columns.js';

/** Asynchronous image checks (media_check_async) of stored avatars, by WeChat's trace_id. */
export class CreateMediaChecks1732970000000 implements MigrationInterface {
  name = 'CreateMediaChecks1732970000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'media_checks',
        columns: [
          idColumn(),
          { name: 'user_id', type: 'integer' },
          { name: 'kind', type: 'varchar', length: '16' },
          { name: 'url', type: 'varchar', length: '512' },
          { name: 'trace_id', type: 'varchar', length: '64', isNullable: true },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'attempts', type: 'integer', default: 0 },
          nullableDatetimeColumn('requested_at'),
          datetimeColumn('created_at'),
        ],
        indices: [
          new TableIndex({
            name: 'uq_media_checks_trace',
            columnNames: ['trace_id'],
            isUnique: true,
          }),
          // The sweeper reads pending checks, oldest first.
          new TableIndex({ name: 'idx_media_checks_status', columnNames: ['status', 'id'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('media_checks');
  }
}
