import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { startTestApp, type TestApp } from './helpers/app.js';
import { loginAs } from './helpers/auth.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, dropRedisKeys, uniqueSuffix } from './helpers/env.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';
import { sleep, until } from './helpers/until.js';

const fixture = new URL('./fixtures/worker-process.mjs', import.meta.url).pathname;
const built = new URL('../dist/src/app.factory.js', import.meta.url).pathname;
describe('WORKER_MODE: one worker and two http replicas', () => {
  let db: TestDatabase;
  let wx: FakeWechat;
  let http: TestApp[] = [];
  let worker: TestApp;
  const prefix = `t${uniqueSuffix()}:`;

  beforeAll(async () => {
    db = await createTestDatabase();
    wx = await startFakeWechat();
    const env = {
      ...baseEnv(db.url, prefix),
      WECHAT_API_BASE_URL: wx.url,
      LOG_LEVEL: 'warn',
      ADMIN_OPENIDS: 'admin-openid',
      ORDER_PAYMENT_TIMEOUT_S: '1',
      ORDER_SWEEP_INTERVAL_MS: '60000',
    };
    http = [
      await startTestApp({ ...env, WORKER_MODE: 'http' }),
      await startTestApp({ ...env, WORKER_MODE: 'http' }),
    ];
    worker = await startTestApp({ ...env, WORKER_MODE: 'worker' });
  });
  afterAll(async () => {
    for (const app of [...http, worker]) await app?.close();
    await wx?.close();
    await db?.drop();
    await dropRedisKeys(prefix);
  });

  it('the worker closes the orders the http replicas placed; the http replicas run no job', async () => {
    const admin = await loginAs(http[0], wx, { admin: true });
    const user = await loginAs(http[1], wx);
    const product = (
      await http[0].http
        .post('/api/v1/admin/products')
        .set('Authorization', `Bearer ${admin.accessToken}`)
        .send({ name: 'Tea', priceCents: 100, stock: 6 })
    ).body.data.id as number;
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await http[i % 2].http
        .post('/api/v1/orders')
        .set('Authorization', `Bearer ${user.accessToken}`)
        .set('Idempotency-Key', `k-${randomBytes(8).toString('hex')}`)
        .send({ items: [{ productId: product, quantity: 1 }] });
      expect(res.status).toBe(201);
      ids.push(res.body.data.id);
    }
    await until(async () => {
      const [row] = await db.dataSource.query(
        "SELECT COUNT(*) AS n FROM orders WHERE status = 'cancelled' AND cancel_reason = 'payment_timeout'",
      );
      return Number(row.n) === 6;
    }, 8000);
    const [stock] = await db.dataSource.query('SELECT stock FROM products WHERE id = ?', [product]);
    expect(stock.stock).toBe(6);

    const jobsRun = async (app: TestApp) => {
      const text = (await app.http.get('/metrics')).text;
      const m =
        /queue_job_duration_seconds_count\{queue="orders.payment-timeout",outcome="completed"\} (\d+)/.exec(
          text,
        );
      return Number(m?.[1] ?? 0);
    };
    // A job counts as completed once its handler returned, a moment after
    // the commit the query above saw.
    await until(async () => (await jobsRun(worker)) === 6 || undefined, 2000);
    expect(await jobsRun(http[0])).toBe(0);
    expect(await jobsRun(http[1])).toBe(0);
  });

  it("the worker's listener serves health and metrics only", async () => {
    expect((await worker.http.get('/health/live')).status).toBe(200);
    expect((await worker.http.get('/health/ready')).status).toBe(200);
    expect((await worker.http.get('/metrics')).status).toBe(200);
    const api = await worker.http.get('/api/v1/products');
    expect(api.status).toBe(404);
    expect(api.body).toMatchObject({ code: 40400, data: null });
    expect(api.body.requestId).toBe(api.headers['x-request-id']);
    expect((await worker.http.post('/api/v1/auth/login').send({ code: 'x' })).status).toBe(404);
    expect((await http[0].http.get('/api/v1/products')).status).toBe(200);
  });
});

describe('a worker process killed or stopped in the middle of a job', () => {
  let db: TestDatabase;
  const prefix = `t${uniqueSuffix()}:`;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    if (!existsSync(built)) throw new Error('run `npm run build` first (npm test does it)');
    db = await createTestDatabase();
    await db.dataSource.query('CREATE TABLE test_effects (event_id INT NOT NULL)');
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await db?.drop();
    await dropRedisKeys(prefix);
  });

  function startWorker(): {
    child: ChildProcess;
    output: () => string;
    exited: Promise<number | null>;
  } {
    let output = '';
    const child = spawn(process.execPath, [fixture], {
      env: {
        ...process.env,
        ...baseEnv(db.url, prefix),
        WORKER_MODE: 'worker',
        LOG_LEVEL: 'warn',
        QUEUE_JOB_LOCK_MS: '1000',
        OUTBOX_POLL_MS: '20',
        SHUTDOWN_DRAIN_MS: '0',
        SHUTDOWN_TIMEOUT_MS: '10000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    return { child, output: () => output, exited };
  }

  async function slowEvent(sleepMs: number): Promise<number> {
    const result = await db.dataSource.query(
      "INSERT INTO outbox (type, aggregate_type, aggregate_id, payload) VALUES ('test.slow', 'test', ?, ?)",
      [randomBytes(4).toString('hex'), JSON.stringify({ sleepMs })],
    );
    return Number(result.insertId);
  }

  const effects = async (id: number) =>
    Number(
      (
        await db.dataSource.query('SELECT COUNT(*) AS n FROM test_effects WHERE event_id = ?', [id])
      )[0].n,
    );

  it('kill -9 mid-job: another worker runs the job again and its effect happens once', async () => {
    const first = startWorker();
    const id = await slowEvent(2500);
    await until(async () => first.output().includes(`START ${id}\n`), 40_000);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await effects(id)).toBe(0);

    const second = startWorker();
    await until(async () => (await effects(id)) === 1, 40_000);
    expect(second.output()).toContain(`START ${id}\n`);
    await sleep(1500);
    expect(await effects(id)).toBe(1);
    const processed = await db.dataSource.query(
      "SELECT COUNT(*) AS n FROM processed_events WHERE consumer = 'test.slow' AND event_id = ?",
      [id],
    );
    expect(Number(processed[0].n)).toBe(1);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 120_000);

  it('SIGTERM mid-job: the active job finishes before the process exits 0', async () => {
    const worker = startWorker();
    const id = await slowEvent(1500);
    await until(async () => worker.output().includes(`START ${id}\n`), 40_000);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.output()).toContain(`DONE ${id}\n`);
    expect(await effects(id)).toBe(1);
  }, 60_000);
});
