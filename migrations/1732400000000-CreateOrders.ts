import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { idColumn, timestampColumns } from './support/columns.js';

export class CreateOrders1732400000000 implements MigrationInterface {
  name = 'CreateOrders1732400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'orders',
        columns: [
          idColumn(),
          { name: 'user_id', type: 'integer' },
          { name: 'status', type: 'varchar', length: '16', default: "'pending'" },
          { name: 'total_cents', type: 'integer' },
          { name: 'remark', type: 'varchar', length: '200', isNullable: true },
          { name: 'idempotency_key', type: 'varchar', length: '64' },
          { name: 'request_hash', type: 'varchar', length: '64' },
          ...timestampColumns(queryRunner),
        ],
        indices: [
          new TableIndex({ name: 'idx_orders_user_id', columnNames: ['user_id', 'id'] }),
          new TableIndex({
            name: 'uq_orders_user_idempotency_key',
            columnNames: ['user_id', 'idempotency_key'],
            isUnique: true,
          }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'order_items',
        columns: [
          idColumn(),
          { name: 'order_id', type: 'integer' },
          { name: 'product_id', type: 'integer' },
          { name: 'product_name', type: 'varchar', length: '100' },
          { name: 'unit_price_cents', type: 'integer' },
          { name: 'quantity', type: 'integer' },
        ],
        indices: [
          new TableIndex({
            name: 'uq_order_items_order_product',
            columnNames: ['order_id', 'product_id'],
            isUnique: true,
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('order_items');
    await queryRunner.dropTable('orders');
  }
}
