import { createConnection } from 'mysql2/promise';
import type { DataSourceOptions } from 'typeorm';
import type { AppConfig, DatabaseEndpoint } from '../../config/index.js';
import { migrations } from '../../../migrations/index.js';

function credentials(e: DatabaseEndpoint) {
  return {
    host: e.host,
    port: e.port,
    username: e.username,
    password: e.password,
    database: e.database,
  };
}

/**
 * How long a write waits for another process's write lock (SQLite's busy
 * timeout) before it fails with SQLITE_BUSY. better-sqlite3 waits
 * synchronously, so this also bounds how long the event loop can stall.
 */
export const EMBEDDED_BUSY_TIMEOUT_MS = 5000;

interface SqliteConnection {
  prepare(source: string): unknown;
}

/**
 * TypeORM opens SQLite transactions with a plain (deferred) BEGIN: a
 * transaction that reads and then writes takes the write lock only at its
 * first write, and if another process committed in between SQLite answers
 * SQLITE_BUSY at once, without waiting for the busy timeout. BEGIN IMMEDIATE
 * takes the write lock up front, so a transaction waits its turn (up to the
 * busy timeout) and then sees the other process's commit.
 */
function startTransactionsImmediately(connection: SqliteConnection): void {
  const prepare = connection.prepare.bind(connection);
  connection.prepare = (source: string) =>
    prepare(source === 'BEGIN TRANSACTION' ? 'BEGIN IMMEDIATE TRANSACTION' : source);
}

export type MysqlFlavour = 'mysql' | 'mariadb';

/**
 * MySQL or MariaDB? TypeORM reads column defaults differently for each, and a
 * wrong guess makes `migration:generate` see drift that is not there.
 */
export async function detectFlavour(endpoint: DatabaseEndpoint): Promise<MysqlFlavour> {
  const conn = await createConnection({
    host: endpoint.host,
    port: endpoint.port,
    user: endpoint.username,
    password: endpoint.password,
    database: endpoint.database,
    connectTimeout: 5000,
  });
  try {
    const [rows] = await conn.query('SELECT VERSION() AS version');
    const version = (rows as { version: string }[])[0]?.version ?? '';
    return version.includes('MariaDB') ? 'mariadb' : 'mysql';
  } finally {
    await conn.end();
  }
}

/** The entity classes; the list is src/entities.ts, at the composition root. */
export type Entities = NonNullable<DataSourceOptions['entities']>;

/**
 * The one set of TypeORM options, used by the app and by the CLI
 * (src/data-source.ts). `synchronize` is never on: the schema comes from migrations.
 */
export async function dataSourceOptions(
  config: AppConfig,
  entities: Entities,
): Promise<DataSourceOptions> {
  const db = config.database;
  if (db.kind === 'embedded') {
    return {
      // A real file database: every commit is on disk, and other processes
      // (`npm run seed`, the TypeORM CLI, a second `npm start`) read and write
      // the same file under SQLite's locks. TypeORM creates the folder.
      type: 'better-sqlite3',
      database: db.path,
      // WAL: readers never wait for the writer, and a commit appends to the
      // log instead of rewriting the file.
      enableWAL: true,
      timeout: EMBEDDED_BUSY_TIMEOUT_MS,
      prepareDatabase: startTransactionsImmediately,
      entities,
      migrations,
      migrationsRun: true,
      synchronize: false,
    };
  }
  const common = {
    type: await detectFlavour(db.primary),
    entities,
    migrations,
    synchronize: false,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    supportBigNumbers: true,
    poolSize: db.poolSize,
    // mysql2 queues callers when the pool is busy; an upper bound keeps a
    // flash-sale crowd from growing the queue without limit (the rest: 503).
    // `trace: false`: mysql2 would capture a stack trace on every query to
    // decorate its errors (5% of POST /orders' CPU in a profile), and stack
    // traces are never logged or returned here.
    // `maxPreparedStatements`: each connection's statement cache (lru.min)
    // allocates its four arrays at full size up front, 512 KB per connection
    // at mysql2's 16,000; TypeORM sends text queries only (never `execute`),
    // so the cache stays empty and a small one is as good.
    extra: {
      queueLimit: db.poolQueueLimit,
      connectTimeout: 5000,
      enableKeepAlive: true,
      trace: false,
      maxPreparedStatements: 16,
    },
  };
  if (db.replicas.length === 0) return { ...common, ...credentials(db.primary) };
  return {
    ...common,
    replication: {
      master: credentials(db.primary),
      slaves: db.replicas.map(credentials),
      // mysql2's PoolCluster: one failed connect takes a replica out for
      // replicaRestoreMs (then it is tried again), and the read retries on the
      // next replica. With none left the routing layer (infra/consistency)
      // sends the read to the primary.
      canRetry: true,
      removeNodeErrorCount: 1,
      restoreNodeTimeout: db.replicaRestoreMs,
      selector: 'RR',
    },
  };
}
