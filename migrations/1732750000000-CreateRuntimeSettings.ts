import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { createdAtColumn, idColumn, timestampColumns } from './support/columns.js';

/**
 * The operator's runtime settings (throttle limits, feature switches) and
 * their audit trail. The one settings row is written by the app on its first
 * boot, from the THROTTLE_* env values: a migration does not read the env.
 */
export class CreateRuntimeSettings1732750000000 implements MigrationInterface {
  name = 'CreateRuntimeSettings1732750000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'runtime_settings',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true },
          { name: 'version', type: 'integer' },
          { name: 'value', type: 'text' },
          ...timestampColumns(queryRunner),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'settings_changes',
        columns: [
          idColumn(),
          { name: 'actor_id', type: 'integer' },
          { name: 'version', type: 'integer' },
          { name: 'before', type: 'text' },
          { name: 'after', type: 'text' },
          createdAtColumn(queryRunner, 'created_at'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('settings_changes');
    await queryRunner.dropTable('runtime_settings');
  }
}
