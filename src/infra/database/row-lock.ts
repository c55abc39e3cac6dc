import type { EntityManager, ObjectLiteral, SelectQueryBuilder } from 'typeorm';

/**
 * Whether `SELECT … FOR UPDATE` means anything on this connection: MySQL and
 * MariaDB lock the row until the transaction ends; the embedded engine runs
 * one transaction at a time, needs no lock, and has no such syntax.
 */
export function locksRows(m: EntityManager): boolean {
  const type = m.connection.options.type;
  return type === 'mysql' || type === 'mariadb';
}

/**
 * The query, reading its rows FOR UPDATE where the engine locks rows: the
 * decisions the transaction makes next see the current row, not a REPEATABLE
 * READ snapshot older than a concurrent writer's commit.
 */
export function forUpdate<T extends ObjectLiteral>(
  m: EntityManager,
  query: SelectQueryBuilder<T>,
): SelectQueryBuilder<T> {
  return locksRows(m) ? query.setLock('pessimistic_write') : query;
}
