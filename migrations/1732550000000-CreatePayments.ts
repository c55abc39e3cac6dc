import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { idColumn, nullableDatetimeColumn, timestampColumns } from './support/columns.js';

/** The WeChat Pay side of orders: prepays and payments, refunds, shipments. */
export class CreatePayments1732550000000 implements MigrationInterface {
  name = 'CreatePayments1732550000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'order_payments',
        columns: [
          { name: 'order_id', type: 'integer', isPrimary: true },
          { name: 'out_trade_no', type: 'varchar', length: '32' },
          { name: 'prepay_id', type: 'varchar', length: '64', isNullable: true },
          nullableDatetimeColumn('prepay_expires_at'),
          { name: 'transaction_id', type: 'varchar', length: '32', isNullable: true },
          { name: 'paid_cents', type: 'integer', isNullable: true },
          nullableDatetimeColumn('paid_at'),
          ...timestampColumns(queryRunner),
        ],
        indices: [
          new TableIndex({
            name: 'uq_order_payments_out_trade_no',
            columnNames: ['out_trade_no'],
            isUnique: true,
          }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'order_refunds',
        columns: [
          idColumn(),
          { name: 'order_id', type: 'integer' },
          { name: 'out_refund_no', type: 'varchar', length: '64' },
          { name: 'idempotency_key', type: 'varchar', length: '64' },
          { name: 'request_hash', type: 'varchar', length: '64' },
          { name: 'amount_cents', type: 'integer' },
          { name: 'reason', type: 'varchar', length: '80', isNullable: true },
          { name: 'state', type: 'varchar', length: '16', default: "'requested'" },
          { name: 'resume_status', type: 'varchar', length: '16' },
          { name: 'refund_id', type: 'varchar', length: '64', isNullable: true },
          ...timestampColumns(queryRunner),
        ],
        indices: [
          new TableIndex({
            name: 'uq_order_refunds_out_refund_no',
            columnNames: ['out_refund_no'],
            isUnique: true,
          }),
          new TableIndex({
            name: 'uq_order_refunds_order_key',
            columnNames: ['order_id', 'idempotency_key'],
            isUnique: true,
          }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'order_shipments',
        columns: [
          { name: 'order_id', type: 'integer', isPrimary: true },
          { name: 'carrier', type: 'varchar', length: '64', isNullable: true },
          { name: 'tracking_no', type: 'varchar', length: '64', isNullable: true },
          { ...nullableDatetimeColumn('shipped_at'), isNullable: false },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('order_shipments');
    await queryRunner.dropTable('order_refunds');
    await queryRunner.dropTable('order_payments');
  }
}
