import { createPool, type Pool, type PoolConnection } from 'mysql2';
import type { MysqlQueryRunner } from 'typeorm/driver/mysql/MysqlQueryRunner.js';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers/database.js';
import { TEST_MYSQL_URL } from '../../../test/helpers/env.js';
import { reusePromiseWrapper } from './promise-wrapper.js';
import { installQueryDeadlines } from './query-deadlines.js';

// On a real MariaDB connection from a mysql2 pool: what TypeORM's query
// runner does with it (`promise().query(…)`) works as before, with one
// wrapper per connection instead of one per statement.
describe('reusePromiseWrapper', () => {
  let pool: Pool;
  let connection: PoolConnection;

  beforeAll(async () => {
    pool = createPool({ uri: TEST_MYSQL_URL, connectionLimit: 1 });
    connection = await new Promise<PoolConnection>((resolve, reject) =>
      pool.getConnection((err, c) => (err ? reject(err) : resolve(c))),
    );
  });
  afterAll(async () => {
    connection?.release();
    await pool?.promise().end();
  });

  it('hands out one wrapper per connection, and statements run through it', async () => {
    expect(connection.promise()).not.toBe(connection.promise());
    reusePromiseWrapper(connection);
    const wrapper = connection.promise();
    expect(connection.promise()).toBe(wrapper);
    const [rows] = await wrapper.query('SELECT ? + 1 AS n', [41]);
    expect(rows).toEqual([{ n: 42 }]);
    // A failing statement rejects through the reused wrapper and leaves it usable.
    await expect(wrapper.query('SELECT * FROM no_such_table_anywhere')).rejects.toMatchObject({
      code: 'ER_NO_DB_ERROR',
    });
    const [again] = await connection.promise().query('SELECT 2 AS n');
    expect(again).toEqual([{ n: 2 }]);
  });

  it('is idempotent, and a wrapper with another Promise class is made as before', async () => {
    const wrapper = reusePromiseWrapper(reusePromiseWrapper(connection)).promise();
    expect(connection.promise()).toBe(wrapper);
    class OtherPromise<T> extends Promise<T> {}
    const other = connection.promise(OtherPromise as PromiseConstructor);
    expect(other).not.toBe(wrapper);
    const answer = other.query('SELECT 1');
    expect(answer).toBeInstanceOf(OtherPromise);
    await answer;
  });
});

// Where the app installs it: every connection a query runner obtains.
describe('the app’s data source', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    installQueryDeadlines(db.dataSource);
  });
  afterAll(() => db?.drop());

  it('gives its query runners connections that keep their promise wrapper', async () => {
    const runner = db.dataSource.createQueryRunner() as MysqlQueryRunner;
    try {
      const connection = (await runner.connect()) as PoolConnection;
      expect(connection.promise()).toBe(connection.promise());
      expect(await runner.query('SELECT 6 * 7 AS n')).toEqual([{ n: 42 }]);
    } finally {
      await runner.release();
    }
  });
});
