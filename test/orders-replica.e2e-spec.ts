import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/index.js';
import { entities } from '../src/entities.js';
import { dataSourceOptions } from '../src/infra/database/index.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { baseEnv, testRedisPrefix } from './helpers/env.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';
import { startReplicaPair, type ReplicaPair } from './helpers/replica-pair.js';

const READ_YOUR_WRITES_MS = 1500;
const ADMIN_OPENID = 'orders-replica-admin';

describe('orders on a real primary + replica pair', () => {
  let pair: ReplicaPair;
  let wx: FakeWechat;
  let app1: TestApp;
  let app2: TestApp;
  let alice: LoggedIn;
  let bob: LoggedIn;
  let product = 0;
  let bobsOrder = 0;

  const bearer = (user: LoggedIn) => ({ Authorization: `Bearer ${user.accessToken}` });

  /** Runs `fn` and returns how many SELECTs each server ran meanwhile. */
  async function counted<T>(fn: () => Promise<T>) {
    const before = {
      primary: await pair.status('primary', 'Com_select'),
      replica: await pair.status('replica', 'Com_select'),
    };
    const result = await fn();
    return {
      result,
      primary: (await pair.status('primary', 'Com_select')) - before.primary,
      replica: (await pair.status('replica', 'Com_select')) - before.replica,
    };
  }

  beforeAll(async () => {
    pair = await startReplicaPair();
    wx = await startFakeWechat();
    await pair.sql('primary', 'CREATE DATABASE app CHARACTER SET utf8mb4');
    const primaryDb = `${pair.primaryUrl}/app`;
    const migrator = new DataSource(
      await dataSourceOptions(loadConfig(baseEnv(primaryDb, 'unused:')), entities),
    );
    await migrator.initialize();
    await migrator.runMigrations();
    await migrator.destroy();

    const env = {
      ...baseEnv(primaryDb, testRedisPrefix()),
      LOG_LEVEL: 'warn',
      WECHAT_API_BASE_URL: wx.url,
      ADMIN_OPENIDS: ADMIN_OPENID,
      DATABASE_REPLICA_URLS: `${pair.replicaUrl}/app`,
      DATABASE_POOL_SIZE: '4',
      READ_YOUR_WRITES_MS: String(READ_YOUR_WRITES_MS),
      DATABASE_REPLICA_RESTORE_MS: '1000',
      // Statement counts measure the request path: no outbox relay polling beside it.
      WORKER_MODE: 'http',
    };
    app1 = await startTestApp(env);
    app2 = await startTestApp(env);

    const admin = await loginAs(app1, wx, { admin: true });
    const created = await app1.http
      .post('/api/v1/admin/products')
      .set(bearer(admin))
      .send({ name: 'Pu-erh', priceCents: 700, stock: 100 });
    product = created.body.data.id as number;
    alice = await loginAs(app1, wx);
    bob = await loginAs(app2, wx);
    const placed = await app2.http
      .post('/api/v1/orders')
      .set(bearer(bob))
      .set('Idempotency-Key', `k-${randomBytes(8).toString('hex')}`)
      .send({ items: [{ productId: product, quantity: 1 }] });
    expect(placed.status).toBe(201);
    bobsOrder = placed.body.data.id as number;
    await pair.sync();
    // Bob's own read-your-writes window ends, so his reads go to the replica again.
    await sleep(READ_YOUR_WRITES_MS + 100);
  }, 90_000);

  afterAll(async () => {
    await app1?.close();
    await app2?.close();
    await wx?.close();
    await pair?.stop();
  });

  describe('with replication paused (a lagging replica)', () => {
    beforeAll(async () => {
      await pair.pauseReplication();
    });
    afterAll(async () => {
      await pair.resumeReplication();
      await pair.sync();
    });

    it('finds a just-placed order at once on another app replica (read from the primary)', async () => {
      const placed = await app1.http
        .post('/api/v1/orders')
        .set(bearer(alice))
        .set('Idempotency-Key', `k-${randomBytes(8).toString('hex')}`)
        .send({ items: [{ productId: product, quantity: 2 }] });
      expect(placed.status).toBe(201);
      const id = placed.body.data.id as number;
      // The replica has not applied it.
      const onReplica = await pair.sql(
        'replica',
        'SELECT COUNT(*) AS n FROM app.orders WHERE id = ?',
        [id],
      );
      expect(Number(onReplica[0].n)).toBe(0);

      const { result, primary, replica } = await counted(() =>
        app2.http.get(`/api/v1/orders/${id}`).set(bearer(alice)),
      );
      expect(result.status).toBe(200);
      expect(result.body.data).toEqual({ ...placed.body.data, shipments: [] });
      expect(primary).toBeGreaterThan(0);
      expect(replica).toBe(0);

      const list = await app2.http.get('/api/v1/orders').set(bearer(alice));
      expect(list.body.data.items.map((o: { id: number }) => o.id)).toEqual([id]);
    });

    it("serves another user's order list from the replica", async () => {
      const { result, primary, replica } = await counted(() =>
        app2.http.get('/api/v1/orders').set(bearer(bob)),
      );
      expect(result.status).toBe(200);
      expect(result.body.data.items.map((o: { id: number }) => o.id)).toEqual([bobsOrder]);
      expect(replica).toBeGreaterThan(0);
      expect(primary).toBe(0);
    });
  });

  describe('when the replica dies', () => {
    it('keeps answering GET /orders on both app replicas', async () => {
      await pair.killReplica();
      for (const t of [app1, app2]) {
        for (let i = 0; i < 3; i++) {
          const res = await t.http.get('/api/v1/orders').set(bearer(bob));
          expect(res.status).toBe(200);
          expect(res.body.data.items.map((o: { id: number }) => o.id)).toEqual([bobsOrder]);
        }
      }
      const one = await app1.http.get(`/api/v1/orders/${bobsOrder}`).set(bearer(bob));
      expect(one.status).toBe(200);
    });
  });
});
