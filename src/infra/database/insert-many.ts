import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';

export interface InsertManyOptions {
  /** Rows whose unique key exists already are skipped (INSERT IGNORE / INSERT OR IGNORE). */
  ignore?: boolean;
  /** Properties to read back from the inserted rows (see `supportsReturning`). */
  returning?: readonly string[];
}

export interface InsertManyResult {
  /** Rows written (with `returning`: rows read back). */
  affected: number;
  /** The `returning` properties of each inserted row, by property name. */
  records: Record<string, unknown>[];
  /**
   * Without `returning`: the generated id of the (first) row inserted,
   * exact on every dialect for a one-row insert.
   */
  insertedId?: number;
}

/** MariaDB (10.5+) and SQLite (3.35+) answer INSERT … RETURNING; MySQL does not. */
export function supportsReturning(m: EntityManager): boolean {
  const type = m.connection.driver.options.type;
  return type === 'mariadb' || type === 'better-sqlite3';
}

/**
 * One multi-row INSERT of `rows` (all with the same properties) through the
 * caller's transaction (if any). Written by hand because the query builder spends
 * more CPU on parameter bookkeeping for a few hundred rows (it rescans its
 * parameter map for every value) than the database spends writing them.
 * Values still go through the driver's own conversion of each column
 * (dates, booleans), so both dialects store what an entity insert would.
 */
export async function insertMany<T extends ObjectLiteral>(
  m: EntityManager,
  entity: EntityTarget<T>,
  rows: readonly Partial<T>[],
  options: InsertManyOptions = {},
): Promise<InsertManyResult> {
  if (rows.length === 0) return { affected: 0, records: [] };
  const { driver } = m.connection;
  const meta = m.connection.getMetadata(entity);
  const column = (property: string): ColumnMetadata => {
    const c = meta.findColumnWithPropertyName(property);
    if (!c) throw new Error(`${meta.name} has no column ${property}`);
    return c;
  };
  const properties = Object.keys(rows[0]);
  const columns = properties.map(column);
  const params: unknown[] = [];
  const mysql = driver.options.type !== 'better-sqlite3';
  // A batch's rows share their timestamps: each is written out once
  // (mysql2 would format the same Date again for every row).
  const dates = new Map<number, string>();
  for (const row of rows) {
    for (let i = 0; i < properties.length; i++) {
      const value: unknown = driver.preparePersistentValue(row[properties[i]], columns[i]);
      params.push(mysql && value instanceof Date ? utcDatetime(value, dates) : value);
    }
  }
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const verb = !options.ignore ? 'INSERT' : mysql ? 'INSERT IGNORE' : 'INSERT OR IGNORE';
  const back = (options.returning ?? []).map(column);
  if (back.length > 0 && !supportsReturning(m)) {
    throw new Error(`${driver.options.type} has no INSERT … RETURNING`);
  }
  const returning =
    back.length > 0
      ? ` RETURNING ${back.map((c) => driver.escape(c.databaseName)).join(', ')}`
      : '';
  const sql =
    `${verb} INTO ${driver.escape(meta.tableName)} ` +
    `(${columns.map((c) => driver.escape(c.databaseName)).join(', ')}) ` +
    `VALUES ${rows.map(() => tuple).join(', ')}${returning}`;
  // Outside a transaction the manager has no runner of its own: one is borrowed.
  const runner = m.queryRunner ?? m.connection.createQueryRunner();
  let result;
  try {
    result = await runner.query(sql, params, true);
  } finally {
    if (runner !== m.queryRunner) await runner.release();
  }
  if (back.length === 0) {
    // mysql2 answers a ResultSetHeader; better-sqlite3's runner passes lastInsertRowid.
    const raw = result.raw as { insertId?: number } | number | bigint;
    const id = typeof raw === 'object' ? raw.insertId : raw;
    return { affected: result.affected ?? 0, records: [], insertedId: Number(id) };
  }
  const records = (result.records as Record<string, unknown>[]).map((r) => {
    const out: Record<string, unknown> = {};
    for (const c of back) out[c.propertyName] = r[c.databaseName];
    return out;
  });
  return { affected: records.length, records };
}

/** DATETIME(6) text of `d` in UTC: what mysql2 writes for a Date with `timezone: 'Z'`. */
function utcDatetime(d: Date, memo: Map<number, string>): string {
  const ms = d.getTime();
  let text = memo.get(ms);
  if (text === undefined) {
    text = `${d.toISOString().slice(0, 23).replace('T', ' ')}000`;
    memo.set(ms, text);
  }
  return text;
}
