import type { QueryRunner, TableColumnOptions } from 'typeorm';

// Migrations are written with TypeORM's schema builder so one set serves
// MySQL/MariaDB and the embedded SQLite engine. The few defaults that differ
// between the two engines are chosen here, matching what the entities'
// @CreateDateColumn/@UpdateDateColumn expect (TypeORM's MySQL default is
// datetime(6)), so `migration:generate` stays empty.

export function isMysql(queryRunner: QueryRunner): boolean {
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

function datetimePrecision(queryRunner: QueryRunner): number | undefined {
  return isMysql(queryRunner) ? 6 : undefined;
}

/** `deleted_at` of a soft-deleted table, as @DeleteDateColumn expects it. */
export function deletedAtColumn(queryRunner: QueryRunner): TableColumnOptions {
  return {
    name: 'deleted_at',
    type: 'datetime',
    precision: datetimePrecision(queryRunner),
    isNullable: true,
  };
}

/**
 * A nullable time, as `@Column({ type: 'datetime', precision: 6, nullable: true })`
 * expects it: that entity option gives `datetime(6)` on both engines.
 */
export function nullableDatetimeColumn(name: string): TableColumnOptions {
  return { name, type: 'datetime', precision: 6, isNullable: true };
}

/** `CURRENT_TIMESTAMP` default of a `@CreateDateColumn`. */
export function createdAtColumn(queryRunner: QueryRunner, name: string): TableColumnOptions {
  const [created] = timestampColumns(queryRunner);
  return { ...created, name };
}

export function timestampColumns(queryRunner: QueryRunner): TableColumnOptions[] {
  const mysql = isMysql(queryRunner);
  const now = mysql ? 'CURRENT_TIMESTAMP(6)' : "datetime('now')";
  const precision = datetimePrecision(queryRunner);
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
