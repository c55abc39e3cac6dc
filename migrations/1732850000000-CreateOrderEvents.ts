import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { datetimeColumn, idColumn } from './support/columns.js';

/** The timeline of every order: one row per status change, from placing on. */
export class CreateOrderEvents1732850000000 implements MigrationInterface {
  name = 'CreateOrderEvents1732850000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'order_events',
        columns: [
          idColumn(),
          { name: 'order_id', type: 'integer' },
          { name: 'from_status', type: 'varchar', length: '16', isNullable: true },
          { name: 'to_status', type: 'varchar', length: '16' },
          { name: 'actor', type: 'varchar', length: '16' },
          { name: 'actor_id', type: 'integer', isNullable: true },
          { name: 'reason', type: 'varchar', length: '80', isNullable: true },
          datetimeColumn('created_at'),
        ],
        indices: [
          new TableIndex({ name: 'idx_order_events_order_id', columnNames: ['order_id', 'id'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('order_events');
  }
}
