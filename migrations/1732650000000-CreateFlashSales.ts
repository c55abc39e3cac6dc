import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import {
  createdAtColumn,
  datetimeColumn,
  idColumn,
  nullableDatetimeColumn,
  timestampColumns,
} from './support/columns.js';

export class CreateFlashSales1732650000000 implements MigrationInterface {
  name = 'CreateFlashSales1732650000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'flash_sales',
        columns: [
          idColumn(),
          { name: 'product_id', type: 'integer' },
          { name: 'product_name', type: 'varchar', length: '100' },
          { name: 'price_cents', type: 'integer' },
          { name: 'stock', type: 'integer' },
          { name: 'remaining', type: 'integer' },
          { name: 'per_user_limit', type: 'integer' },
          datetimeColumn('starts_at'),
          datetimeColumn('ends_at'),
          nullableDatetimeColumn('settled_at'),
          { name: 'returned_units', type: 'integer', default: 0 },
          ...timestampColumns(queryRunner),
        ],
        indices: [
          new TableIndex({
            name: 'idx_flash_sales_settled_ends',
            columnNames: ['settled_at', 'ends_at'],
          }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'flash_tickets',
        columns: [
          { name: 'ticket', type: 'varchar', length: '40', isPrimary: true },
          { name: 'sale_id', type: 'integer' },
          { name: 'user_id', type: 'integer' },
          { name: 'idempotency_key', type: 'varchar', length: '64' },
          { name: 'quantity', type: 'integer' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'order_id', type: 'integer', isNullable: true },
          { name: 'reason', type: 'varchar', length: '64', isNullable: true },
          createdAtColumn(queryRunner, 'created_at'),
        ],
        indices: [
          new TableIndex({
            name: 'uq_flash_tickets_sale_user_key',
            columnNames: ['sale_id', 'user_id', 'idempotency_key'],
            isUnique: true,
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('flash_tickets');
    await queryRunner.dropTable('flash_sales');
  }
}
