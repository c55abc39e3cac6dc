import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { createdAtColumn, idColumn } from './support/columns.js';

/** The audit log of staff writes (docs/audit.md). */
export class CreateAuditLog1732990000000 implements MigrationInterface {
  name = 'CreateAuditLog1732990000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'audit_log',
        columns: [
          idColumn(),
          { name: 'actor_id', type: 'integer', isNullable: true },
          { name: 'action', type: 'varchar', length: '40' },
          { name: 'target', type: 'varchar', length: '120' },
          { name: 'before', type: 'text', isNullable: true },
          { name: 'after', type: 'text', isNullable: true },
          { name: 'request_id', type: 'varchar', length: '128', isNullable: true },
          createdAtColumn(queryRunner, 'created_at'),
        ],
        // One staff user's writes, newest first; the whole log pages by the primary key.
        indices: [new TableIndex({ name: 'idx_audit_log_actor', columnNames: ['actor_id', 'id'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('audit_log');
  }
}
