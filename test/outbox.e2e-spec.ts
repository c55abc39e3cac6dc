import { Inject, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { Queue } from 'bullmq';
import { withRequestId } from '../src/common/http/index.js';
import {
  ConsumerRegistry,
  OutboxWriter,
  UnrecoverableJobError,
  type NewEvent,
} from '../src/infra/queue/index.js';
import { Transactions } from '../src/infra/transactions/index.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { loginAs } from './helpers/auth.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, uniqueSuffix } from './helpers/env.js';
import { OwnRedisServer } from './helpers/redis-server.js';
import { useStack } from './helpers/stack.js';
import { sleep, until } from './helpers/until.js';

// What the flaky consumer does, set by the tests (same process as the app).
const flaky = { healed: false, attempts: new Map<number, number>() };

/** Test consumers: each applied event becomes a row of test_applied, in its transaction. */
@Injectable()
class TestConsumers implements OnModuleInit {
  constructor(@Inject(ConsumerRegistry) private readonly registry: ConsumerRegistry) {}

  onModuleInit(): void {
    this.registry.register<{ seq: number }>({
      name: 'test.recorder',
      events: ['test.tick'],
      concurrency: 8,
      handle: async (event, m) => {
        await m.query(
          'INSERT INTO test_applied (consumer, event_id, aggregate_id, seq) VALUES (?, ?, ?, ?)',
          ['recorder', event.id, event.aggregateId, event.payload.seq],
        );
      },
    });
    this.registry.register<{ failTimes?: number; unrecoverable?: boolean }>({
      name: 'test.flaky',
      events: ['test.flaky'],
      attempts: 3,
      backoffMs: 50,
      handle: async (event, m) => {
        const attempt = (flaky.attempts.get(event.id) ?? 0) + 1;
        flaky.attempts.set(event.id, attempt);
        if (event.payload.unrecoverable && !flaky.healed) {
          throw new UnrecoverableJobError('the payload can never work');
        }
        if (attempt <= (event.payload.failTimes ?? 0)) throw new Error(`flaky failure ${attempt}`);
        await m.query(
          'INSERT INTO test_applied (consumer, event_id, aggregate_id, seq) VALUES (?, ?, ?, 0)',
          ['flaky', event.id, event.aggregateId],
        );
      },
    });
  }
}

@Module({ providers: [TestConsumers] })
class TestConsumersModule {}

async function createAppliedTable(db: TestDatabase): Promise<void> {
  await db.dataSource.query(
    `CREATE TABLE test_applied (id INT AUTO_INCREMENT PRIMARY KEY, consumer VARCHAR(16),
     event_id INT, aggregate_id VARCHAR(64), seq INT)`,
  );
}

async function append(app: TestApp, events: NewEvent[]): Promise<void> {
  const outbox = app.app.get(OutboxWriter);
  await app.app.get(Transactions).run((m) => outbox.append(m, events));
}

async function applied(db: TestDatabase, consumer: string): Promise<number> {
  const [row] = await db.dataSource.query(
    'SELECT COUNT(*) AS n FROM test_applied WHERE consumer = ?',
    [consumer],
  );
  return Number(row.n);
}

describe('outbox → BullMQ → consumers (MariaDB + Redis)', () => {
  const stack = useStack({
    wechat: true,
    imports: [TestConsumersModule],
    env: { LOG_LEVEL: 'info', ADMIN_OPENIDS: 'admin-openid', OUTBOX_POLL_MS: '20' },
  });
  beforeAll(() => createAppliedTable(stack.db));

  it('1,000 events: none lost, none applied twice, each aggregate in commit order, redelivery ignored', async () => {
    const aggregates = 20;
    const perAggregate = 50;
    // Each aggregate's events commit in seq order, 5 per transaction; the 20 aggregates race.
    await Promise.all(
      Array.from({ length: aggregates }, async (_, a) => {
        for (let seq = 0; seq < perAggregate; seq += 5) {
          await append(
            stack.app,
            [0, 1, 2, 3, 4].map((i) => ({
              type: 'test.tick',
              aggregateType: 'test',
              aggregateId: `agg-${a}`,
              payload: { seq: seq + i },
            })),
          );
        }
      }),
    );
    const total = aggregates * perAggregate;
    await until(async () => (await applied(stack.db, 'recorder')) >= total, 60_000);
    const rows: { event_id: number; aggregate_id: string; seq: number }[] =
      await stack.db.dataSource.query(
        "SELECT event_id, aggregate_id, seq FROM test_applied WHERE consumer = 'recorder' ORDER BY id",
      );
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(total);
    const seqs = new Map<string, number[]>();
    for (const r of rows) seqs.set(r.aggregate_id, [...(seqs.get(r.aggregate_id) ?? []), r.seq]);
    expect(seqs.size).toBe(aggregates);
    for (const list of seqs.values()) {
      expect(list).toEqual(Array.from({ length: perAggregate }, (_, i) => i));
    }

    // Redelivery of the first 200 (jobs gone, rows unpublished again): every one is skipped.
    const queue = new Queue('test.recorder', {
      connection: { host: '127.0.0.1', port: 6379 },
      prefix: `${stack.app.config.redis!.keyPrefix}bull`,
    });
    await queue.clean(0, 100_000, 'completed');
    await queue.close();
    await stack.db.dataSource.query(
      "UPDATE outbox SET published_at = NULL WHERE type = 'test.tick' AND aggregate_id IN ('agg-0', 'agg-1', 'agg-2', 'agg-3')",
    );
    await until(async () => {
      const metrics = (await stack.app.http.get('/metrics')).text;
      const m =
        /queue_job_duration_seconds_count\{queue="test.recorder",outcome="duplicate"\} (\d+)/.exec(
          metrics,
        );
      return Number(m?.[1] ?? 0) >= 4 * perAggregate;
    }, 60_000);
    expect(await applied(stack.db, 'recorder')).toBe(total);
  }, 120_000);

  it('retries a failing job with backoff and applies it once; logs each failed attempt with job and request id', async () => {
    await withRequestId('req-flaky-1', () =>
      append(stack.app, [
        { type: 'test.flaky', aggregateType: 'flaky', aggregateId: 1, payload: { failTimes: 2 } },
      ]),
    );
    const [{ id }] = await stack.db.dataSource.query(
      "SELECT id FROM outbox WHERE type = 'test.flaky' AND aggregate_id = '1'",
    );
    await until(async () => (await applied(stack.db, 'flaky')) === 1, 10_000);
    expect(flaky.attempts.get(id)).toBe(3);
    const failures = stack.app.logs.filter((l) => l.message === 'job attempt failed; will retry');
    expect(failures).toHaveLength(2);
    for (const line of failures) {
      expect(line).toMatchObject({
        queue: 'test.flaky',
        jobId: `e${id}`,
        requestId: 'req-flaky-1',
      });
    }
    const metrics = (await stack.app.http.get('/metrics')).text;
    expect(metrics).toMatch(/queue_job_retries_total\{queue="test.flaky"\} 2/);
  });

  it('keeps an unrecoverable job as a dead letter, lists it to admins and retries it on request', async () => {
    const admin = await loginAs(stack.app, stack.wx, { admin: true });
    const user = await loginAs(stack.app, stack.wx);
    const as = (token: string) => ({ Authorization: `Bearer ${token}` });
    await append(stack.app, [
      {
        type: 'test.flaky',
        aggregateType: 'flaky',
        aggregateId: 2,
        payload: { unrecoverable: true },
      },
    ]);
    const [{ id }] = await stack.db.dataSource.query(
      "SELECT id FROM outbox WHERE type = 'test.flaky' AND aggregate_id = '2'",
    );
    const path = '/api/v1/admin/queues/test.flaky/dead-letters';
    await until(async () => {
      const res = await stack.app.http.get(path).set(as(admin.accessToken));
      return res.body.data.items.length === 1;
    }, 10_000);
    // One attempt only: retrying could not have helped.
    expect(flaky.attempts.get(id)).toBe(1);
    const list = await stack.app.http.get(path).set(as(admin.accessToken));
    expect(list.body.data.items[0]).toMatchObject({
      jobId: `e${id}`,
      attempts: 1,
      failedReason: 'the payload can never work',
      event: { id, type: 'test.flaky', aggregateType: 'flaky', aggregateId: '2' },
    });
    expect(
      stack.app.logs.some(
        (l) => l.message === 'job failed; kept as a dead letter' && l.jobId === `e${id}`,
      ),
    ).toBe(true);
    const queues = await stack.app.http.get('/api/v1/admin/queues').set(as(admin.accessToken));
    expect(queues.body.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'test.flaky',
          counts: expect.objectContaining({ failed: 1 }),
        }),
        expect.objectContaining({ name: 'orders.payment-timeout' }),
      ]),
    );
    const metrics = (await stack.app.http.get('/metrics')).text;
    expect(metrics).toMatch(/queue_jobs\{queue="test.flaky",state="failed"\} 1/);
    expect(metrics).toMatch(/outbox_backlog \d+/);
    expect(metrics).toMatch(/outbox_oldest_unpublished_age_seconds \d/);

    // Refusals: not an admin, unknown queue, malformed or unknown job id.
    expect((await stack.app.http.get(path).set(as(user.accessToken))).status).toBe(403);
    expect(
      (
        await stack.app.http
          .get('/api/v1/admin/queues/nope/dead-letters')
          .set(as(admin.accessToken))
      ).status,
    ).toBe(404);
    expect((await stack.app.http.get(`${path}?limit=0`).set(as(admin.accessToken))).status).toBe(
      400,
    );
    const bad = await stack.app.http.post(`${path}/abc/retry`).set(as(admin.accessToken));
    expect(bad.status).toBe(400);
    expect(
      (await stack.app.http.post(`${path}/e999999/retry`).set(as(admin.accessToken))).status,
    ).toBe(404);

    flaky.healed = true;
    const retried = await stack.app.http.post(`${path}/e${id}/retry`).set(as(admin.accessToken));
    expect(retried.status).toBe(200);
    expect(retried.body.data).toEqual({ jobId: `e${id}`, retried: true });
    await until(async () => (await applied(stack.db, 'flaky')) === 2, 10_000);
    expect((await stack.app.http.get(path).set(as(admin.accessToken))).body.data.items).toEqual([]);
    // Not a dead letter any more.
    expect(
      (await stack.app.http.post(`${path}/e${id}/retry`).set(as(admin.accessToken))).status,
    ).toBe(404);
  });
});

describe('Redis stopped between commit and publish', () => {
  let redis: OwnRedisServer;
  let db: TestDatabase;
  let app: TestApp;

  beforeAll(async () => {
    redis = await OwnRedisServer.start();
    db = await createTestDatabase();
    await createAppliedTable(db);
    app = await startTestApp(
      {
        ...baseEnv(db.url, `t${uniqueSuffix()}:`),
        REDIS_URL: redis.url,
        LOG_LEVEL: 'warn',
        OUTBOX_POLL_MS: '20',
      },
      { imports: [TestConsumersModule] },
    );
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await redis?.down();
  });

  it('keeps the committed events in the outbox while Redis is down and delivers them when it returns', async () => {
    await redis.down();
    await append(
      app,
      [0, 1, 2, 3, 4].map((seq) => ({
        type: 'test.tick',
        aggregateType: 'test',
        aggregateId: 'outage',
        payload: { seq },
      })),
    );
    await sleep(1500);
    const [waiting] = await db.dataSource.query(
      'SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL',
    );
    expect(Number(waiting.n)).toBe(5);
    expect(await applied(db, 'recorder')).toBe(0);

    await redis.up();
    await until(async () => (await applied(db, 'recorder')) === 5, 20_000);
    const rows: { seq: number }[] = await db.dataSource.query(
      "SELECT seq FROM test_applied WHERE consumer = 'recorder' ORDER BY id",
    );
    expect(rows.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(
      app.logs.some(
        (l) =>
          l.message === 'outbox relay: publish failed; events stay in the outbox and are retried',
      ),
    ).toBe(true);
  });
});
