import type { QueryRunner, TableColumnOptions } from 'typeorm';

// Migrations are written with TypeORM's schema builder so one set serves
// MySQL/MariaDB and the embedded SQLite engine. The few defaults that differ
// between the two engines are chosen here, matching what the entities'
// @CreateDateColumn/@UpdateDateColumn expect, so `migration:generate` stays empty.

function isMysql(queryRunner: QueryRunner): boolean {
  const type = queryRunner.connection.options.type;
  return type === 'mysql' || type === 'mariadb';
}

export function idColumn(name = 'id'): TableColumnOptions {
  return {
    name,
    type: 'integer',
    isPrimary: true,
    isGenerated: true,
    generationStrategy: 'increment',
  };
}

export function timestampColumns(queryRunner: QueryRunner): TableColumnOptions[] {
  const now = isMysql(queryRunner) ? 'CURRENT_TIMESTAMP(3)' : "datetime('now')";
  return [
    { name: 'created_at', type: 'datetime', precision: 3, default: now },
    {
      name: 'updated_at',
      type: 'datetime',
      precision: 3,
      default: now,
      onUpdate: isMysql(queryRunner) ? 'CURRENT_TIMESTAMP(3)' : undefined,
    },
  ];
}
