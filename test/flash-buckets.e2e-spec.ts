import { randomBytes } from 'node:crypto';
import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';
import { MOVE_OUT_LUA } from '../src/modules/flash-sales/admission.scripts.js';
import { bucketOf, saleKeys } from '../src/modules/flash-sales/flash-keys.js';
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
import { useRedisCluster } from './helpers/redis-topology.js';
import { useStack } from './helpers/stack.js';
import { sleep, until } from './helpers/until.js';

const API = '/api/v1';
const BUCKETS = 4;

describe('Flash sale split over 4 stock buckets on a 3-master Redis Cluster', () => {
  const cluster = useRedisCluster(3);

  const stack = useStack({
    // The in-process app admits; the children persist (and one more admits, killed mid-sale).
    env: () => ({
      REDIS_CLUSTER_NODES: cluster.nodes,
      FLASH_STOCK_BUCKETS: String(BUCKETS),
      ADMIN_OPENIDS: 'buckets-admin',
      LOG_LEVEL: 'warn',
      WORKER_MODE: 'http',
    }),
  });
  const children: AppProcess[] = [];
  let raw: Cluster;
  let admin: string;
  let local: string;
  let users: LoggedIn[];

  beforeAll(async () => {
    assertBuilt();
    raw = new Cluster(cluster.nodes.split(','), {
      keyPrefix: stack.app.config.redis?.keyPrefix,
    });
    admin = (await loginAs(stack.app, stack.wx, { admin: true })).accessToken;
    await stack.app.app.listen(0, '127.0.0.1');
    local = (await stack.app.app.getUrl()).replace('[::1]', '127.0.0.1');
    users = await Promise.all(Array.from({ length: 48 }, () => loginAs(stack.app, stack.wx)));
    await startChild('worker');
  }, 60_000);
  afterAll(async () => {
    for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGKILL');
    raw?.disconnect();
  });

  async function startChild(mode: 'http' | 'worker'): Promise<AppProcess> {
    const c = await startFlashChild(stack, mode, {
      REDIS_CLUSTER_NODES: cluster.nodes,
      FLASH_STOCK_BUCKETS: String(BUCKETS),
    });
    children.push(c);
    return c;
  }

  const createSale = (stock: number, perUserLimit: number) =>
    liveFlashSale(stack.app, admin, { stock, perUserLimit, productStock: 200 });

  /** One buy with retries on the same key (a client whose replica died retries on another). */
  async function buy(
    saleId: number,
    u: LoggedIn,
    base: () => string,
    key = `b-${randomBytes(6).toString('hex')}`,
  ): Promise<{ status: number; code?: number; ticket?: string }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        return await postFlashBuy(attempt === 0 ? base() : local, saleId, u.accessToken, key);
      } catch {
        await sleep(20);
      }
    }
    return { status: 0 };
  }

  const stockOf = async (saleId: number) =>
    Promise.all(Array.from({ length: BUCKETS }, (_, b) => raw.get(saleKeys(saleId, b).stock)));

  async function placedRows(saleId: number, expected: number) {
    return until(async () => {
      const r = (await stack.db.dataSource.query(
        'SELECT ticket, user_id, status FROM flash_tickets WHERE sale_id = ?',
        [saleId],
      )) as { ticket: string; user_id: number; status: string }[];
      return r.length === expected ? r : undefined;
    }, 30_000);
  }

  async function expectExactOrders(saleId: number, stock: number): Promise<void> {
    const [orders] = (await stack.db.dataSource.query(
      `SELECT COUNT(*) AS n, COUNT(DISTINCT o.idempotency_key) AS d FROM orders o
       JOIN flash_tickets t ON t.order_id = o.id WHERE t.sale_id = ?`,
      [saleId],
    )) as { n: number; d: number }[];
    expect([Number(orders.n), Number(orders.d)]).toEqual([stock, stock]);
    const [row] = (await stack.db.dataSource.query(
      'SELECT remaining, stock_buckets FROM flash_sales WHERE id = ?',
      [saleId],
    )) as { remaining: number; stock_buckets: number }[];
    expect([Number(row.remaining), Number(row.stock_buckets)]).toEqual([0, BUCKETS]);
    const report = await stack.app.app.get(FlashSettlement).reconcile(saleId);
    expect(report).toMatchObject({
      redisAdmittedUnits: stock,
      placedUnits: stock,
      difference: 0,
      missingInDatabase: 0,
      unknownToRedis: 0,
    });
  }

  it('puts the buckets in different slots, on more than one master', async () => {
    const saleId = await createSale(8, 2);
    const prefix = stack.app.config.redis?.keyPrefix ?? '';
    const slots = Array.from({ length: BUCKETS }, (_, b) =>
      calculateSlot(prefix + saleKeys(saleId, b).stock),
    );
    expect(new Set(slots).size).toBe(BUCKETS);
    expect(await stockOf(saleId)).toEqual(['2', '2', '2', '2']);
    // ioredis's slot table (filled once connected): slot → ["host:port" of its master, ...].
    const table = (raw as unknown as { slots: string[][] }).slots;
    expect(new Set(slots.map((slot) => table[slot][0])).size).toBeGreaterThan(1);
  });

  it('admits a buyer whose bucket is empty from the other buckets, and answers 40910 only when all are', async () => {
    const saleId = await createSale(4, 10);
    const u = users.find((x) => bucketOf(x.user.id, BUCKETS) === 0) as LoggedIn;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await buy(saleId, u, () => local)).status);
    expect(statuses).toEqual([202, 202, 202, 202]);
    expect(await stockOf(saleId)).toEqual(['0', '0', '0', '0']);
    // Every unit came through bucket 0: the buyer's counter and tickets are there only.
    expect(await raw.hget(saleKeys(saleId, 0).buyers, String(u.user.id))).toBe('4');
    expect(await raw.hlen(saleKeys(saleId, 0).tickets)).toBe(4);
    const after = await buy(saleId, u, () => local);
    expect([after.status, after.code]).toEqual([409, 40910]);
    await placedRows(saleId, 4);
    await expectExactOrders(saleId, 4);
  }, 60_000);

  it('does not close the sale while units are in a half-done move: they are landed and sold', async () => {
    const saleId = await createSale(4, 10);
    const u = users.find((x) => bucketOf(x.user.id, BUCKETS) === 0) as LoggedIn;
    // Bucket 3's one unit taken out by a process killed before it landed.
    const k3 = saleKeys(saleId, 3);
    expect(await raw.eval(MOVE_OUT_LUA, 2, k3.stock, k3.moved, 'stranded2', 0, 1)).toBe(1);
    const first: number[] = [];
    for (let i = 0; i < 3; i++) first.push((await buy(saleId, u, () => local)).status);
    expect(first).toEqual([202, 202, 202]);
    // Most likely before the worker's settlement sweep (each second) lands the
    // move: 40910 for this buyer, but the sale must not be announced sold out,
    // or every replica would answer 40910 from memory for good.
    const early = await buy(saleId, u, () => local);
    expect([202, 409]).toContain(early.status);
    await until(async () => ((await raw.hlen(k3.moved)) === 0 ? true : undefined), 10_000);
    if (early.status === 409) {
      expect(early.code).toBe(40910);
      expect((await buy(saleId, u, () => local)).status).toBe(202);
    }
    const after = await buy(saleId, u, () => local);
    expect([after.status, after.code]).toEqual([409, 40910]);
    await placedRows(saleId, 4);
    await expectExactOrders(saleId, 4);
  }, 60_000);

  it('many buyers racing on two buckets: exactly the stock, each user within the limit, and a stranded move landed', async () => {
    const stock = 40;
    const limit = 2;
    const saleId = await createSale(stock, limit);
    // Buyers of buckets 0 and 1 only: the units of buckets 2 and 3 must move to them.
    const crowd = users.filter((x) => bucketOf(x.user.id, BUCKETS) < 2);
    expect(crowd.length * limit).toBeGreaterThan(stock);
    // A move out of bucket 3 whose process died before it landed (a kill -9
    // between the two scripts): the settlement sweep of the worker lands it.
    const k3 = saleKeys(saleId, 3);
    expect(await raw.eval(MOVE_OUT_LUA, 2, k3.stock, k3.moved, 'stranded1', 0, 1)).toBe(5);
    const results = await Promise.all(
      crowd.flatMap((u) =>
        Array.from({ length: 3 }, async () => ({ u, r: await buy(saleId, u, () => local) })),
      ),
    );
    const admitted = results.filter((x) => x.r.status === 202);
    // A second wave for any unit that was in a move while the first was refused.
    for (let wave = 0; wave < 5 && admitted.length < stock; wave++) {
      await sleep(1500);
      for (const { u, r } of await Promise.all(
        crowd.map(async (u) => ({ u, r: await buy(saleId, u, () => local) })),
      )) {
        if (r.status === 202) admitted.push({ u, r });
      }
    }
    expect(results.every((x) => x.r.status === 202 || x.r.status === 409)).toBe(true);
    expect(admitted).toHaveLength(stock);
    const perUser = new Map<number, number>();
    for (const { u } of admitted) perUser.set(u.user.id, (perUser.get(u.user.id) ?? 0) + 1);
    expect(Math.max(...perUser.values())).toBeLessThanOrEqual(limit);
    expect(await raw.hlen(k3.moved)).toBe(0);
    expect(await stockOf(saleId)).toEqual(['0', '0', '0', '0']);
    const refused = await buy(
      saleId,
      crowd.find((u) => !perUser.has(u.user.id)) ?? users[0],
      () => local,
    );
    expect(refused.code).toBe(40910);
    const rows = await placedRows(saleId, stock);
    const byTicket = new Map(rows.map((r) => [r.ticket, r]));
    for (const { r } of admitted) expect(byTicket.get(r.ticket as string)?.status).toBe('placed');
    await expectExactOrders(saleId, stock);
    const view = await stack.app.http.get(`${API}/flash-sales/${saleId}`);
    await until(async () => {
      const v = await stack.app.http.get(`${API}/flash-sales/${saleId}`);
      return v.body.data.remaining === 0 ? v : undefined;
    }, 5000);
    expect(view.status).toBe(200);
  }, 90_000);

  it('kill -9 of an admitting replica and of a worker mid-sale: exact totals after a restart', async () => {
    const stock = 30;
    const saleId = await createSale(stock, 3);
    const [replica, worker2] = await Promise.all([startChild('http'), startChild('worker')]);
    const tickets = new Set<string>();
    let replicaAlive = true;
    const wave = async () => {
      const out = await Promise.all(
        users.map((u, i) =>
          buy(saleId, u, () => (replicaAlive && i % 2 === 0 ? replica.base : local)),
        ),
      );
      for (const r of out) if (r.status === 202) tickets.add(r.ticket as string);
      return out.map((r) => r.status);
    };
    const first = wave();
    await sleep(30);
    await kill9(replica);
    replicaAlive = false;
    await kill9(worker2);
    const statuses = [...(await first)];
    // "After restart": a fresh worker takes over what the killed one held.
    await startChild('worker');
    for (let w = 0; w < 4 && tickets.size < stock; w++) statuses.push(...(await wave()));
    expect(statuses.every((s) => s === 202 || s === 409)).toBe(true);
    expect(tickets.size).toBe(stock);
    let inRedis = 0;
    for (let b = 0; b < BUCKETS; b++) inRedis += await raw.hlen(saleKeys(saleId, b).tickets);
    expect(inRedis).toBe(stock);
    const rows = await placedRows(saleId, stock);
    const byTicket = new Map(rows.map((r) => [r.ticket, r]));
    for (const t of tickets) expect(byTicket.get(t)?.status).toBe('placed');
    await expectExactOrders(saleId, stock);
  }, 120_000);
});
