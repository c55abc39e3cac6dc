import type { DataSource, QueryRunner } from 'typeorm';
import { SpanKind, inSpan, tracing } from './tracing.js';

/** Statements are kept to this many characters in a span (a bulk insert can be huge). */
const MAX_STATEMENT = 1000;

/** `SELECT`, `INSERT`…: the span's name, with the statement as an attribute. */
function operationOf(sql: string): string {
  const match = /^\s*\(?\s*([A-Za-z]+)/.exec(sql);
  return match ? match[1]!.toUpperCase() : 'QUERY';
}

/**
 * A client span per SQL statement run by a query runner of `dataSource`,
 * under the active span only (the relay's polling makes none). The
 * statement is recorded with its placeholders, never its parameters, which
 * may carry personal data. Installs nothing when tracing is off.
 */
export function traceDataSource(dataSource: DataSource): void {
  if (!tracing()) return;
  const system = dataSource.options.type === 'better-sqlite3' ? 'sqlite' : 'mysql';
  const driver = dataSource.driver as unknown as {
    createQueryRunner(mode: unknown): QueryRunner;
  };
  const createQueryRunner = driver.createQueryRunner.bind(driver);
  driver.createQueryRunner = (mode) => {
    const runner = createQueryRunner(mode);
    const query = runner.query.bind(runner) as (...args: unknown[]) => Promise<unknown>;
    runner.query = ((sql: string, ...rest: unknown[]) =>
      inSpan(
        `db ${operationOf(sql)}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'db.system.name': system,
            'db.query.text': sql.length > MAX_STATEMENT ? sql.slice(0, MAX_STATEMENT) : sql,
          },
        },
        () => query(sql, ...rest),
      )) as QueryRunner['query'];
    return runner;
  };
}
