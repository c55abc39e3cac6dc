import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { deletedAtColumn, idColumn, timestampColumns } from './support/columns.js';

export class CreateProducts1732300000000 implements MigrationInterface {
  name = 'CreateProducts1732300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'products',
        columns: [
          idColumn(),
          { name: 'name', type: 'varchar', length: '100' },
          { name: 'description', type: 'varchar', length: '2000', default: "''" },
          { name: 'price_cents', type: 'integer' },
          { name: 'stock', type: 'integer', default: 0 },
          { name: 'image_url', type: 'varchar', length: '512', isNullable: true },
          { name: 'version', type: 'integer', default: 1 },
          deletedAtColumn(queryRunner),
          ...timestampColumns(queryRunner),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('products');
  }
}
