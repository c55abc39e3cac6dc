import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { idColumn, timestampColumns } from './support/columns.js';

/** Flags on stored user text that WeChat content security asked to review (or could not check). */
export class CreateContentFlags1732600000000 implements MigrationInterface {
  name = 'CreateContentFlags1732600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'content_flags',
        columns: [
          idColumn(),
          { name: 'kind', type: 'varchar', length: '16' },
          { name: 'ref_id', type: 'integer' },
          { name: 'user_id', type: 'integer' },
          { name: 'content', type: 'varchar', length: '200' },
          { name: 'reason', type: 'varchar', length: '16' },
          { name: 'label', type: 'integer', isNullable: true },
          { name: 'status', type: 'varchar', length: '16', default: "'open'" },
          { name: 'cleared_by', type: 'integer', isNullable: true },
          ...timestampColumns(queryRunner),
        ],
        indices: [
          new TableIndex({ name: 'idx_content_flags_status', columnNames: ['status', 'id'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('content_flags');
  }
}
