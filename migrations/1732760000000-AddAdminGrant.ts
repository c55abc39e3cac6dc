import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { nullableDatetimeColumn } from './support/columns.js';

/**
 * When `npm run admin -- grant` made the user an admin (null: never, or
 * revoked). Kept apart from `role`, which login recomputes from ADMIN_OPENIDS
 * and this grant, so that dropping an openid from ADMIN_OPENIDS still demotes
 * it and a grant survives the next login.
 */
export class AddAdminGrant1732760000000 implements MigrationInterface {
  name = 'AddAdminGrant1732760000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'users',
      new TableColumn(nullableDatetimeColumn('admin_granted_at')),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('users', 'admin_granted_at');
  }
}
