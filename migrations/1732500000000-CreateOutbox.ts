import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { createdAtColumn, idColumn, isMysql, nullableDatetimeColumn } from './support/columns.js';

// Orders placed before this migration get the default payment window
// (ORDER_PAYMENT_TIMEOUT_S=900) from their creation, so the sweeper closes
// the ones still pending instead of keeping their stock forever.
const LEGACY_PAYMENT_WINDOW_S = 900;

export class CreateOutbox1732500000000 implements MigrationInterface {
  name = 'CreateOutbox1732500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'outbox',
        columns: [
          idColumn(),
          { name: 'type', type: 'varchar', length: '64' },
          { name: 'aggregate_type', type: 'varchar', length: '32' },
          { name: 'aggregate_id', type: 'varchar', length: '64' },
          { name: 'payload', type: 'text' },
          { name: 'request_id', type: 'varchar', length: '128', isNullable: true },
          createdAtColumn(queryRunner, 'created_at'),
          nullableDatetimeColumn('published_at'),
        ],
        indices: [
          new TableIndex({ name: 'idx_outbox_unpublished', columnNames: ['published_at', 'id'] }),
          new TableIndex({
            name: 'idx_outbox_aggregate',
            columnNames: ['aggregate_type', 'aggregate_id', 'id'],
          }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'processed_events',
        columns: [
          { name: 'consumer', type: 'varchar', length: '64', isPrimary: true },
          { name: 'event_id', type: 'integer', isPrimary: true },
          createdAtColumn(queryRunner, 'processed_at'),
        ],
      }),
    );
    await queryRunner.addColumns('orders', [
      new TableColumn(nullableDatetimeColumn('pay_before')),
      new TableColumn({ name: 'cancel_reason', type: 'varchar', length: '16', isNullable: true }),
      new TableColumn({ name: 'refunded_cents', type: 'integer', default: 0 }),
    ]);
    await queryRunner.query(
      isMysql(queryRunner)
        ? `UPDATE orders SET pay_before = DATE_ADD(created_at, INTERVAL ${LEGACY_PAYMENT_WINDOW_S} SECOND)`
        : `UPDATE orders SET pay_before = datetime(created_at, '+${LEGACY_PAYMENT_WINDOW_S} seconds')`,
    );
    await queryRunner.createIndex(
      'orders',
      new TableIndex({
        name: 'idx_orders_status_pay_before',
        columnNames: ['status', 'pay_before'],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('orders', 'idx_orders_status_pay_before');
    await queryRunner.dropColumns('orders', ['refunded_cents', 'cancel_reason', 'pay_before']);
    await queryRunner.dropTable('processed_events');
    await queryRunner.dropTable('outbox');
  }
}
