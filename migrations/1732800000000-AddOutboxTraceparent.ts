import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Outbox events carry the W3C traceparent of their request, so their jobs join its trace. */
export class AddOutboxTraceparent1732800000000 implements MigrationInterface {
  name = 'AddOutboxTraceparent1732800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'outbox',
      new TableColumn({ name: 'traceparent', type: 'varchar', length: '55', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('outbox', 'traceparent');
  }
}
