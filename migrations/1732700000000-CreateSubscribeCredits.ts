import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { idColumn, timestampColumns } from './support/columns.js';

/** Subscribe-message credits: how many messages of a template each user allowed. */
export class CreateSubscribeCredits1732700000000 implements MigrationInterface {
  name = 'CreateSubscribeCredits1732700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'subscribe_credits',
        columns: [
          idColumn(),
          { name: 'user_id', type: 'integer' },
          { name: 'template_id', type: 'varchar', length: '64' },
          { name: 'credits', type: 'integer', default: 0 },
          ...timestampColumns(queryRunner),
        ],
        indices: [
          new TableIndex({
            name: 'uq_subscribe_credits_user_template',
            columnNames: ['user_id', 'template_id'],
            isUnique: true,
          }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('subscribe_credits');
  }
}
