import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { idColumn, timestampColumns } from './support/columns.js';

const ORDER_ADDRESS_COLUMNS = [
  { name: 'address_name', length: '32' },
  { name: 'address_phone', length: '20' },
  { name: 'address_province', length: '32' },
  { name: 'address_city', length: '32' },
  { name: 'address_district', length: '32' },
  { name: 'address_detail', length: '200' },
  { name: 'address_postal_code', length: '6' },
];

/**
 * Delivery addresses: each user's address book, the order's own copy of
 * its address (plain columns, the phone and name indexed for the back
 * office's search) and how each product is delivered (existing products
 * are shipped: `express`).
 */
export class AddAddresses1732950000000 implements MigrationInterface {
  name = 'AddAddresses1732950000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'user_addresses',
        columns: [
          idColumn(),
          { name: 'user_id', type: 'integer' },
          { name: 'name', type: 'varchar', length: '32' },
          { name: 'phone', type: 'varchar', length: '20' },
          { name: 'province', type: 'varchar', length: '32' },
          { name: 'city', type: 'varchar', length: '32' },
          { name: 'district', type: 'varchar', length: '32' },
          { name: 'detail', type: 'varchar', length: '200' },
          { name: 'postal_code', type: 'varchar', length: '6', isNullable: true },
          { name: 'is_default', type: 'boolean', default: 0 },
          ...timestampColumns(queryRunner),
        ],
        indices: [
          new TableIndex({ name: 'idx_user_addresses_user_id', columnNames: ['user_id', 'id'] }),
        ],
      }),
    );
    await queryRunner.addColumns(
      'orders',
      ORDER_ADDRESS_COLUMNS.map(
        (c) => new TableColumn({ ...c, type: 'varchar', isNullable: true }),
      ),
    );
    await queryRunner.createIndices('orders', [
      new TableIndex({ name: 'idx_orders_address_phone', columnNames: ['address_phone'] }),
      new TableIndex({ name: 'idx_orders_address_name', columnNames: ['address_name'] }),
    ]);
    await queryRunner.addColumn(
      'products',
      new TableColumn({ name: 'delivery', type: 'varchar', length: '16', default: "'express'" }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('products', 'delivery');
    await queryRunner.dropIndex('orders', 'idx_orders_address_name');
    await queryRunner.dropIndex('orders', 'idx_orders_address_phone');
    await queryRunner.dropColumns(
      'orders',
      ORDER_ADDRESS_COLUMNS.map((c) => c.name),
    );
    await queryRunner.dropTable('user_addresses');
  }
}
