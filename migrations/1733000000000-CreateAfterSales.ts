import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { idColumn, timestampColumns } from './support/columns.js';

/** After-sales requests (docs/after-sales.md). */
export class CreateAfterSales1733000000000 implements MigrationInterface {
  name = 'CreateAfterSales1733000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'after_sales',
        columns: [
          idColumn(),
          { name: 'order_id', type: 'integer' },
          { name: 'user_id', type: 'integer' },
          { name: 'type', type: 'varchar', length: '16' },
          { name: 'status', type: 'varchar', length: '16', default: "'requested'" },
          { name: 'open_order_id', type: 'integer', isNullable: true },
          { name: 'amount_cents', type: 'integer' },
          { name: 'reason', type: 'varchar', length: '80' },
          { name: 'description', type: 'varchar', length: '500', isNullable: true },
          { name: 'idempotency_key', type: 'varchar', length: '64' },
          { name: 'request_hash', type: 'varchar', length: '64' },
          { name: 'approved_cents', type: 'integer', isNullable: true },
          { name: 'reject_reason', type: 'varchar', length: '200', isNullable: true },
          { name: 'decided_by', type: 'integer', isNullable: true },
          { name: 'return_carrier', type: 'varchar', length: '32', isNullable: true },
          { name: 'return_tracking_no', type: 'varchar', length: '64', isNullable: true },
          { name: 'refund_id', type: 'integer', isNullable: true },
          ...timestampColumns(queryRunner),
        ],
        indices: [
          new TableIndex({
            name: 'uq_after_sales_user_key',
            columnNames: ['user_id', 'idempotency_key'],
            isUnique: true,
          }),
          // One open request per order: NULL (closed) repeats, an order id does not.
          new TableIndex({
            name: 'uq_after_sales_open_order',
            columnNames: ['open_order_id'],
            isUnique: true,
          }),
          new TableIndex({ name: 'idx_after_sales_order', columnNames: ['order_id', 'id'] }),
          // The staff queue: one status, oldest first.
          new TableIndex({ name: 'idx_after_sales_status', columnNames: ['status', 'id'] }),
          new TableIndex({ name: 'idx_after_sales_refund', columnNames: ['refund_id'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('after_sales');
  }
}
