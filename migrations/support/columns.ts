import type { QueryRunner, TableColumnOptions } from 'typeorm';

// Migrations are written with TypeORM's schema builder so one set serves
// MySQL/MariaDB and the embedded SQLite engine. The few defaults that differ
// between the two engines are chosen here, matching what the entities'
// @CreateDateColumn/@UpdateDateColumn expect (TypeORM's MySQL default is
// datetime(6)), so `migration:generate` stays empty.

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
  const mysql = isMysql(queryRunner);
  const now = mysql ? 'CURRENT_TIMESTAMP(6)' : "datetime('now')";
  const precision = mysql ? 6 : undefined;
  return [
    { name: 'created_at', type: 'datetime', precision, default: now },
    {
      name: 'updated_at',
      type: 'datetime',
      precision,
      default: now,
      onUpdate: mysql ? now : undefined,
    },
  ];
}
