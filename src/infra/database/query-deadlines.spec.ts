import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import { DataSource } from 'typeorm';
import { DeadlineExceededError } from '../../common/errors/index.js';
import { installRequestContext } from '../../common/http/index.js';
import { installQueryDeadlines } from './query-deadlines.js';

const BUDGET_MS = 50;

// The embedded engine: a statement runs synchronously and cannot be
// interrupted, so once a request's budget is spent its next statement is
// refused before it starts, and its transaction rolls back.
describe('query deadlines on the embedded engine', () => {
  let dataSource: DataSource;
  let app: FastifyInstance;

  beforeAll(async () => {
    dataSource = new DataSource({ type: 'better-sqlite3', database: ':memory:' });
    await dataSource.initialize();
    await dataSource.query('CREATE TABLE t (n INTEGER)');
    installQueryDeadlines(dataSource);
    app = Fastify();
    installRequestContext(app, { default: BUDGET_MS, orders: BUDGET_MS, wechat: BUDGET_MS });
    const outcome = (work: Promise<unknown>) =>
      work.then(
        () => 'done',
        (err: unknown) => (err instanceof DeadlineExceededError ? 'budget spent' : String(err)),
      );
    app.get('/in-budget', () => outcome(dataSource.query('SELECT COUNT(*) AS n FROM t')));
    app.get('/late', async () => {
      await sleep(BUDGET_MS + 30);
      return outcome(dataSource.query('SELECT COUNT(*) AS n FROM t'));
    });
    app.get('/late-in-transaction', () =>
      outcome(
        dataSource.transaction(async (m) => {
          await m.query('INSERT INTO t (n) VALUES (1)');
          await sleep(BUDGET_MS + 30);
          await m.query('INSERT INTO t (n) VALUES (2)');
        }),
      ),
    );
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    if (dataSource?.isInitialized) await dataSource.destroy();
  });

  it('runs a request’s statements while its budget lasts', async () => {
    expect((await app.inject('/in-budget')).body).toBe('done');
  });

  it('refuses a statement once the budget is spent', async () => {
    expect((await app.inject('/late')).body).toBe('budget spent');
  });

  it('rolls back a transaction that runs out of budget: nothing half-written', async () => {
    expect((await app.inject('/late-in-transaction')).body).toBe('budget spent');
    expect(await dataSource.query('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: 0 }]);
  });

  it('leaves work outside a request alone (jobs have no request budget)', async () => {
    await sleep(BUDGET_MS + 30);
    expect(await dataSource.query('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: 0 }]);
  });
});
