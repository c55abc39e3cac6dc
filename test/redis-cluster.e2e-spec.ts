import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import type { TestApp } from './helpers/app.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { startRedisCluster, type OwnCluster } from './helpers/redis-topology.js';
import { useStack } from './helpers/stack.js';
import { until } from './helpers/until.js';

const API = '/api/v1';
const ADMIN_OPENID = 'cluster-admin';
const USER_LIMIT = 30;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('Redis Cluster (3 masters): two replicas with REDIS_CLUSTER_NODES', () => {
  let cluster: OwnCluster | undefined;
  // Registered before the stack: started first, stopped after the apps closed.
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
  }, 30_000);
  afterAll(() => cluster?.stop());

  const stack = useStack({
    apps: 2,
    env: () => ({
      // REDIS_URL stays set (baseEnv): the cluster is used instead of it.
      REDIS_CLUSTER_NODES: (cluster as OwnCluster).nodes,
      ADMIN_OPENIDS: ADMIN_OPENID,
      THROTTLE_DEFAULT_LIMIT: String(USER_LIMIT),
      THROTTLE_DEFAULT_TTL: '60',
    }),
  });
  let a: TestApp;
  let b: TestApp;
  let admin: LoggedIn;
  let raw: Cluster;

  beforeAll(async () => {
    [a, b] = stack.apps;
    admin = await loginAs(a, stack.wx, { admin: true });
    raw = new Cluster((cluster as OwnCluster).nodes.split(','), {
      keyPrefix: a.config.redis?.keyPrefix,
    });
  });
  afterAll(() => raw?.disconnect());

  /** Which masters hold keys under the app's prefix (SCAN on every master). */
  async function keysOnMasters(): Promise<string[][]> {
    const prefix = a.config.redis?.keyPrefix ?? '';
    return Promise.all(
      raw.nodes('master').map(async (node) => {
        const keys: string[] = [];
        for await (const batch of node.scanStream({ match: `${prefix}*`, count: 1000 })) {
          keys.push(...(batch as string[]));
        }
        return keys;
      }),
    );
  }

  it('runs on the cluster: the app answers ready and its keys are spread over every master', async () => {
    expect(a.config.redis?.topology.kind).toBe('cluster');
    const ready = await a.http.get('/health/ready');
    expect(ready.status).toBe(200);
    const users = await Promise.all(Array.from({ length: 12 }, () => loginAs(b, stack.wx)));
    expect(users).toHaveLength(12);
    const perMaster = await keysOnMasters();
    expect(perMaster.every((keys) => keys.some((k) => k.includes('sess:{')))).toBe(true);
  });

  it('login, refresh rotation and reuse detection work across replicas', async () => {
    const u = await loginAs(a, stack.wx);
    const me = await b.http.get(`${API}/users/me`).set(bearer(u.accessToken));
    expect(me.status).toBe(200);
    const rotated = await b.http.post(`${API}/auth/refresh`).send({ refreshToken: u.refreshToken });
    expect(rotated.status).toBe(200);
    const next = rotated.body.data.refreshToken as string;
    expect(next).not.toBe(u.refreshToken);
    const twice = await a.http.post(`${API}/auth/refresh`).send({ refreshToken: next });
    expect(twice.status).toBe(200);
    // Reuse of a spent token (not the one just replaced: that is a repeated
    // refresh): the rotation script revokes the session, whose hash, spent
    // set and tombstone share one slot.
    const reused = await a.http.post(`${API}/auth/refresh`).send({ refreshToken: u.refreshToken });
    expect([reused.status, reused.body.code]).toEqual([401, 40102]);
    const dead = await a.http
      .post(`${API}/auth/refresh`)
      .send({ refreshToken: twice.body.data.refreshToken });
    expect(dead.body.code).toBe(40102);

    // Two sessions of one user, listed from the user's index (another slot).
    const one = await loginAs(a, stack.wx);
    await loginAs(b, stack.wx, { openid: one.openid });
    const sessions = await a.http.get(`${API}/auth/sessions`).set(bearer(one.accessToken));
    expect(sessions.status).toBe(200);
    expect(sessions.body.data).toHaveLength(2);
  });

  it('logout on one replica is refused with 40102 by the other within 1 s (bus on the cluster)', async () => {
    const u = await loginAs(a, stack.wx);
    expect((await b.http.get(`${API}/users/me`).set(bearer(u.accessToken))).status).toBe(200);
    expect((await a.http.post(`${API}/auth/logout`).set(bearer(u.accessToken))).status).toBe(200);
    const started = Date.now();
    await until(
      async () =>
        (await b.http.get(`${API}/users/me`).set(bearer(u.accessToken))).body.code === 40102 ||
        undefined,
      1000,
    );
    expect(Date.now() - started).toBeLessThan(1000);
    const r = await b.http.post(`${API}/auth/refresh`).send({ refreshToken: u.refreshToken });
    expect(r.body.code).toBe(40102);
  });

  it('an admin PATCH through A is seen through B, and the L2 entry on the cluster is gone', async () => {
    const created = await a.http
      .post(`${API}/admin/products`)
      .set(bearer(admin.accessToken))
      .send({ name: 'Biluochun', priceCents: 5900, stock: 5 });
    expect(created.status).toBe(201);
    const id = created.body.data.id as number;
    expect((await b.http.get(`${API}/products/${id}`)).body.data.priceCents).toBe(5900);
    // A read stores nothing when the creation's invalidation reaches B during
    // it (a loaded machine delays the bus): read again until L2 holds it.
    await until(async () => {
      await b.http.get(`${API}/products/${id}`);
      return (await raw.exists(`c:product:${id}`)) === 1 ? true : undefined;
    }, 2000);
    const patched = await a.http
      .patch(`${API}/admin/products/${id}`)
      .set(bearer(admin.accessToken))
      .send({ priceCents: 4900 });
    expect(patched.status).toBe(200);
    // The tag invalidation deleted the entry across slots (nobody read it since).
    await until(async () => ((await raw.exists(`c:product:${id}`)) === 0 ? true : undefined), 1000);
    const seen = await until(async () => {
      const res = await b.http.get(`${API}/products/${id}`);
      return res.body.data.priceCents === 4900 ? res : undefined;
    }, 1000);
    expect(seen.body.data).toEqual(patched.body.data);
  });

  it(`admits exactly ${USER_LIMIT} per user of bursts by several users over both replicas (one script call per slot)`, async () => {
    const users = await Promise.all(Array.from({ length: 4 }, () => loginAs(a, stack.wx)));
    // The users' trackers fall into different slots: a turn's batch is split.
    const slots = new Set(users.map((u) => calculateSlot(`thr:{default:u:${u.user.id}}:h`)));
    expect(slots.size).toBeGreaterThan(1);
    const burst = USER_LIMIT + 10;
    const responses = await Promise.all(
      users.flatMap((u) =>
        Array.from({ length: burst }, (_, i) =>
          (i % 2 ? a : b).http.get(`${API}/users/me`).set(bearer(u.accessToken)),
        ),
      ),
    );
    for (let i = 0; i < users.length; i++) {
      const mine = responses.slice(i * burst, (i + 1) * burst);
      // loginAs made no default-throttled call; each user starts at zero.
      expect(mine.filter((r) => r.status === 200)).toHaveLength(USER_LIMIT);
      expect(mine.filter((r) => r.status === 429)).toHaveLength(10);
    }
    // Counted on the cluster (hits refused while blocked are not added).
    const counted = await raw.get(`thr:{default:u:${users[0].user.id}}:h`);
    expect(Number(counted)).toBeGreaterThanOrEqual(USER_LIMIT);
  });

  it('admits exactly the stock of a flash sale under concurrent buyers on both replicas', async () => {
    const product = await a.http
      .post(`${API}/admin/products`)
      .set(bearer(admin.accessToken))
      .send({ name: 'Longjing', priceCents: 5000, stock: 100 });
    const now = Date.now();
    const sale = await a.http
      .post(`${API}/admin/flash-sales`)
      .set(bearer(admin.accessToken))
      .send({
        productId: product.body.data.id,
        priceCents: 990,
        stock: 6,
        perUserLimit: 1,
        startsAt: new Date(now - 1000).toISOString(),
        endsAt: new Date(now + 60_000).toISOString(),
      });
    expect(sale.status).toBe(201);
    const saleId = sale.body.data.id as number;
    const buyers = await Promise.all(Array.from({ length: 10 }, () => loginAs(b, stack.wx)));
    const results = await Promise.all(
      buyers.flatMap((u, i) =>
        [0, 1].map((j) =>
          ((i + j) % 2 ? a : b).http
            .post(`${API}/flash-sales/${saleId}/orders`)
            .set(bearer(u.accessToken))
            .set('Idempotency-Key', `k-${randomBytes(8).toString('hex')}`)
            .send({ quantity: 1 }),
        ),
      ),
    );
    expect(results.filter((r) => r.status === 202)).toHaveLength(6);
    for (const r of results.filter((r) => r.status !== 202)) {
      expect(r.status).toBe(409);
      expect([40910, 40911]).toContain(r.body.code);
    }
    // The persister drains the sale's stream from the cluster into orders.
    const rows = await until(async () => {
      const r = (await stack.db.dataSource.query(
        'SELECT status FROM flash_tickets WHERE sale_id = ?',
        [saleId],
      )) as { status: string }[];
      return r.length >= 6 ? r : undefined;
    }, 15_000);
    expect(rows.every((r) => r.status === 'placed')).toBe(true);
  });
});
