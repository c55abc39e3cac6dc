import { randomBytes } from 'node:crypto';
import { createConnection, type Connection } from 'mysql2/promise';
import { Redis } from 'ioredis';
import { saleKeys } from '../src/modules/flash-sales/flash-keys.js';
import { FlashSettlement } from '../src/modules/flash-sales/flash-settlement.js';
import {
  assertBuilt,
  kill9,
  startFlashChild,
  postFlashBuy,
  type AppProcess,
} from './helpers/app-process.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { liveFlashSale } from './helpers/flash-sale.js';
import { TEST_REDIS_URL } from './helpers/env.js';
import { useStack } from './helpers/stack.js';
import { sleep, until } from './helpers/until.js';

type Child = AppProcess;

describe('Flash sale: kill -9 of a replica and of a worker mid-sale', () => {
  const stack = useStack({
    // The in-process app serves requests only; the persisting is the children's.
    env: { LOG_LEVEL: 'warn', ADMIN_OPENIDS: 'chaos-admin', WORKER_MODE: 'http' },
  });
  const children: Child[] = [];
  let raw: Redis;

  beforeAll(() => {
    assertBuilt();
    raw = new Redis(TEST_REDIS_URL, { keyPrefix: stack.app.config.redis?.keyPrefix });
  });
  afterAll(async () => {
    for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGKILL');
    raw?.disconnect();
  });

  async function startChild(mode: 'http' | 'worker'): Promise<Child> {
    const c = await startFlashChild(stack, mode);
    children.push(c);
    return c;
  }

  it('loses no admitted ticket, doubles no order, and the reconciliation agrees', async () => {
    const admin = (await loginAs(stack.app, stack.wx, { admin: true })).accessToken;
    const stock = 60;
    const saleId = await liveFlashSale(stack.app, admin, {
      stock,
      perUserLimit: 3,
      productStock: 100,
    });
    const buyers = await Promise.all(
      Array.from({ length: 30 }, () => loginAs(stack.app, stack.wx)),
    );
    // Booted together (a process start is the slow part): the second worker
    // waits on the same lock as the first and takes over what it leaves.
    const [replica, worker] = await Promise.all([
      startChild('http'),
      startChild('worker'),
      startChild('worker'),
    ]);

    // The sale row locked from outside: the workers' batches wait on it,
    // read from the stream and not acknowledged, when the first is killed.
    const blocker: Connection = await createConnection(stack.db.url);
    await blocker.beginTransaction();
    await blocker.query('SELECT id FROM flash_sales WHERE id = ? FOR UPDATE', [saleId]);

    await stack.app.app.listen(0, '127.0.0.1');
    const local = (await stack.app.app.getUrl()).replace('[::1]', '127.0.0.1');
    const tickets = new Map<string, LoggedIn>();
    /** One buy with retries on the same key (a client whose replica died retries elsewhere). */
    const buy = async (u: LoggedIn, base: () => string) => {
      const key = `chaos-${randomBytes(6).toString('hex')}`;
      for (let attempt = 0; attempt < 5; attempt++) {
        const target = attempt === 0 ? base() : local;
        try {
          const res = await postFlashBuy(target, saleId, u.accessToken, key);
          if (res.status === 202) tickets.set(res.ticket as string, u);
          return res.status;
        } catch {
          await sleep(20);
        }
      }
      return 0;
    };
    let replicaAlive = true;
    const waves = async (n: number) => {
      const statuses: number[] = [];
      for (let w = 0; w < n; w++) {
        statuses.push(
          ...(await Promise.all(
            buyers.map((u, i) =>
              buy(u, () => (replicaAlive && i % 2 === 0 ? replica.base : local)),
            ),
          )),
        );
      }
      return statuses;
    };
    const first = waves(1);
    // The replica dies while requests are in flight on it.
    await sleep(30);
    await kill9(replica);
    replicaAlive = false;
    await first;
    // What the first worker holds unacknowledged when it dies (its consumer name carries its pid).
    const heldByKilled = await until(async () => {
      const entries = (await raw.xpending(saleKeys(saleId).stream, 'persist', '-', '+', 1000)) as [
        string,
        string,
      ][];
      const held = entries.filter(([, consumer]) => consumer.includes(`-${worker.process.pid}-`));
      return held.length > 0 ? held.length : undefined;
    }, 15_000);
    await kill9(worker);
    await blocker.rollback();
    await blocker.end();
    const statuses = await waves(3);
    expect(statuses.every((s) => s === 202 || s === 409)).toBe(true);

    const admittedInRedis = await raw.hlen(saleKeys(saleId).tickets);
    expect(admittedInRedis).toBe(stock);
    const rows = await until(async () => {
      const r = (await stack.db.dataSource.query(
        'SELECT ticket, status, order_id FROM flash_tickets WHERE sale_id = ?',
        [saleId],
      )) as { ticket: string; status: string; order_id: number }[];
      return r.length === admittedInRedis ? r : undefined;
    }, 30_000);
    expect(heldByKilled).toBeGreaterThan(0);
    // Every 202 a client saw became exactly one placed order.
    const byTicket = new Map(rows.map((r) => [r.ticket, r]));
    for (const t of tickets.keys()) expect(byTicket.get(t)?.status).toBe('placed');
    const [orders] = (await stack.db.dataSource.query(
      `SELECT COUNT(*) AS n, COUNT(DISTINCT o.idempotency_key) AS d FROM orders o
       JOIN flash_tickets t ON t.order_id = o.id WHERE t.sale_id = ?`,
      [saleId],
    )) as { n: number; d: number }[];
    expect([Number(orders.n), Number(orders.d)]).toEqual([stock, stock]);
    const report = await stack.app.app.get(FlashSettlement).reconcile(saleId);
    expect(report).toMatchObject({
      redisAdmittedUnits: stock,
      placedUnits: stock,
      difference: 0,
      missingInDatabase: 0,
      unknownToRedis: 0,
    });
  }, 90_000);
});
