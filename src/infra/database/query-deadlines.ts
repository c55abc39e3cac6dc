import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DeadlineExceededError } from '../../common/errors/index.js';
import { remainingBudgetMs } from '../../common/http/index.js';
import { reusePromiseWrapper } from './promise-wrapper.js';

/** The part of a mysql2 pool connection this file touches. */
interface PoolConnection {
  query(sql: unknown, values?: unknown, cb?: unknown): unknown;
  promise(promiseImpl?: PromiseConstructor): unknown;
  release(): void;
}

/** The part of TypeORM's MysqlDriver through which every query runner gets its connection. */
interface ConnectionSource {
  obtainMasterConnection(): Promise<PoolConnection>;
  obtainSlaveConnection(): Promise<PoolConnection>;
}

type Done = (err: unknown, ...rest: unknown[]) => void;

// Statements that do work, so a budget bounds them. Everything else (START
// TRANSACTION, COMMIT, ROLLBACK, SAVEPOINT, SET) runs untouched even with the
// budget spent: a rollback must always be able to run.
const BOUNDED = /^\s*(?:SELECT|INSERT|UPDATE|DELETE|REPLACE|WITH)\b/i;

// MariaDB's ER_STATEMENT_TIMEOUT: max_statement_time interrupted the statement.
const STATEMENT_TIMEOUT = 1969;

const BOUND = Symbol('queryDeadlines');

/**
 * The request's remaining budget as the timeout of its database work, on the
 * engine that can enforce it:
 * - waiting for a pool connection: raced with the budget; a connection that
 *   arrives after it is handed straight back;
 * - MariaDB: each statement is sent as `SET STATEMENT max_statement_time=<s>
 *   FOR …`, so the server itself interrupts it (a row-lock wait included) and
 *   the transaction rolls back at once. mysql2's own `timeout` only stops
 *   waiting on the client: the statement keeps its locks and the
 *   connection, and TypeORM's ROLLBACK queues behind it, so the request
 *   would still wait for the lock;
 * - MySQL has no such per-statement limit for writes: there a statement is
 *   bounded by innodb_lock_wait_timeout, and only the pool wait and the
 *   statements after the budget is spent (refused before they are sent)
 *   follow the budget;
 * - the embedded engine runs each statement synchronously: nothing can
 *   interrupt one, so a statement is refused before it starts once the
 *   budget is spent (its busy timeout bounds a wait for the write lock).
 * Outside a request (jobs, migrations, health checks) nothing changes.
 */
export function installQueryDeadlines(dataSource: DataSource): void {
  if (dataSource.options.type === 'better-sqlite3') {
    dataSource.subscribers.push({ beforeQuery: ({ query }) => refuseWhenSpent(query) });
    return;
  }
  const interrupt = dataSource.options.type === 'mariadb';
  const driver = dataSource.driver as unknown as ConnectionSource;
  for (const name of ['obtainMasterConnection', 'obtainSlaveConnection'] as const) {
    const obtain = driver[name].bind(driver);
    // Every connection a query runner gets passes here: also where it is
    // made to keep its promise wrapper (promise-wrapper.ts).
    driver[name] = async () =>
      bindQueries(reusePromiseWrapper(await acquireWithinBudget(obtain)), interrupt);
  }
}

function refuseWhenSpent(sql: string): void {
  if (remainingBudgetMs() <= 0 && BOUNDED.test(sql)) throw new DeadlineExceededError();
}

function acquireWithinBudget(obtain: () => Promise<PoolConnection>): Promise<PoolConnection> {
  const remaining = remainingBudgetMs();
  if (remaining === Infinity) return obtain();
  if (remaining <= 0) return Promise.reject(new DeadlineExceededError());
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new DeadlineExceededError());
    }, remaining);
    obtain().then(
      (connection) => {
        if (late) return connection.release();
        clearTimeout(timer);
        resolve(connection);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** Wraps the connection's `query` once; the pool hands the same connection out again and again. */
function bindQueries(connection: PoolConnection, interrupt: boolean): PoolConnection {
  const marked = connection as PoolConnection & { [BOUND]?: true };
  if (marked[BOUND]) return connection;
  marked[BOUND] = true;
  const query = connection.query.bind(connection);
  // TypeORM (through mysql2's promise wrapper) calls query(sql, done) or query(sql, values, done).
  connection.query = (sql: unknown, values?: unknown, cb?: unknown) => {
    const remaining = remainingBudgetMs();
    if (remaining === Infinity || typeof sql !== 'string' || !BOUNDED.test(sql)) {
      return query(sql, values, cb);
    }
    const withValues = typeof values !== 'function';
    const done = (withValues ? cb : values) as Done;
    if (remaining <= 0) {
      process.nextTick(done, new DeadlineExceededError());
      return undefined;
    }
    if (!interrupt) return query(sql, values, cb);
    const seconds = (remaining / 1000).toFixed(3);
    const timed: Done = (err, ...rest) =>
      done(
        (err as { errno?: unknown } | null)?.errno === STATEMENT_TIMEOUT
          ? new DeadlineExceededError()
          : err,
        ...rest,
      );
    const bounded = `SET STATEMENT max_statement_time=${seconds} FOR ${sql}`;
    return withValues ? query(bounded, values, timed) : query(bounded, timed);
  };
  return connection;
}

/** Installs the query deadlines on the app's data source once it is open. */
@Injectable()
export class QueryDeadlines implements OnModuleInit {
  constructor(private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    installQueryDeadlines(this.dataSource);
  }
}
