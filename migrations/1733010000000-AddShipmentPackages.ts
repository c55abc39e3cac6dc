import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * An order shipped in several packages keeps one row per package: the key
 * becomes (order_id, package_index). Rows written before are each an order's
 * only package, 0. idx_order_shipments_tracking_no is untouched, so a search
 * by tracking number finds an order by any of its packages.
 */
export class AddShipmentPackages1733010000000 implements MigrationInterface {
  name = 'AddShipmentPackages1733010000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // A primary column joins the key on both engines (SQLite rebuilds the table).
    await queryRunner.addColumn(
      'order_shipments',
      new TableColumn({ name: 'package_index', type: 'integer', default: 0, isPrimary: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // One row an order again: the first package stays, as before this migration.
    await queryRunner.query('DELETE FROM order_shipments WHERE package_index > 0');
    await queryRunner.dropColumn('order_shipments', 'package_index');
  }
}
