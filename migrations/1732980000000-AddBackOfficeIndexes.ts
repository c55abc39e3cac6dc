import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The indexes of the back office's order list (GET /admin/orders): newest
 * first is `created_at DESC, id DESC`, so a status filter, a date range and
 * the unfiltered list each walk one index in order and stop at the page's
 * end; a search by tracking number finds its shipment by index.
 */
export class AddBackOfficeIndexes1732980000000 implements MigrationInterface {
  name = 'AddBackOfficeIndexes1732980000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndices('orders', [
      new TableIndex({
        name: 'idx_orders_status_created_at',
        columnNames: ['status', 'created_at', 'id'],
      }),
      new TableIndex({ name: 'idx_orders_created_at', columnNames: ['created_at', 'id'] }),
    ]);
    await queryRunner.createIndex(
      'order_shipments',
      new TableIndex({ name: 'idx_order_shipments_tracking_no', columnNames: ['tracking_no'] }),
    );
    await queryRunner.createIndex(
      'users',
      new TableIndex({ name: 'idx_users_phone', columnNames: ['phone'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('users', 'idx_users_phone');
    await queryRunner.dropIndex('order_shipments', 'idx_order_shipments_tracking_no');
    await queryRunner.dropIndex('orders', 'idx_orders_created_at');
    await queryRunner.dropIndex('orders', 'idx_orders_status_created_at');
  }
}
