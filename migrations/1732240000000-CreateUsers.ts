import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { idColumn, timestampColumns } from './support/columns.js';

export class CreateUsers1732240000000 implements MigrationInterface {
  name = 'CreateUsers1732240000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'users',
        columns: [
          idColumn(),
          { name: 'openid', type: 'varchar', length: '64' },
          { name: 'unionid', type: 'varchar', length: '64', isNullable: true },
          { name: 'nickname', type: 'varchar', length: '64', default: "''" },
          { name: 'avatar_url', type: 'varchar', length: '512', isNullable: true },
          { name: 'phone', type: 'varchar', length: '32', isNullable: true },
          { name: 'role', type: 'varchar', length: '16', default: "'user'" },
          ...timestampColumns(queryRunner),
        ],
        indices: [
          new TableIndex({ name: 'uq_users_openid', columnNames: ['openid'], isUnique: true }),
          new TableIndex({ name: 'idx_users_unionid', columnNames: ['unionid'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('users');
  }
}
