import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The staff role a user was granted (`support`, `operator`, `finance`,
 * `admin`). Until now a grant could only make an admin, recorded by
 * `admin_granted_at` alone: those grants become `admin`, and the column now
 * dates whichever role was granted.
 */
export class AddStaffRoles1732960000000 implements MigrationInterface {
  name = 'AddStaffRoles1732960000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'users',
      new TableColumn({ name: 'granted_role', type: 'varchar', length: '16', isNullable: true }),
    );
    await queryRunner.query(
      "UPDATE users SET granted_role = 'admin' WHERE admin_granted_at IS NOT NULL",
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Only admin grants can be told apart without the column.
    await queryRunner.query(
      "UPDATE users SET admin_granted_at = NULL, role = 'user' WHERE granted_role IS NOT NULL AND granted_role <> 'admin' AND role <> 'admin'",
    );
    await queryRunner.dropColumn('users', 'granted_role');
  }
}
