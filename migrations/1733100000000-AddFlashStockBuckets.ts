import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** A flash sale's Redis stock buckets (FLASH_STOCK_BUCKETS at its creation; docs/flash-sales.md). */
export class AddFlashStockBuckets1733100000000 implements MigrationInterface {
  name = 'AddFlashStockBuckets1733100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'flash_sales',
      new TableColumn({ name: 'stock_buckets', type: 'integer', default: 1 }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('flash_sales', 'stock_buckets');
  }
}
