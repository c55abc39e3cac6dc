import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/index.js';
import { entities } from '../src/entities.js';
import { dataSourceOptions } from '../src/infra/database/index.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { baseEnv, testRedisPrefix } from './helpers/env.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';
import { startReplicaPair, type ReplicaPair } from './helpers/replica-pair.js';

const ADMIN_OPENID = 'back-office-replica-admin';

// The back office's reads and its export run on the replica: with
// replication paused, an order only the primary has is not in them yet.
describe('the back office reads on a real primary + replica pair', () => {
  let pair: ReplicaPair;
  let wx: FakeWechat;
  let app: TestApp;
  let admin: LoggedIn;
  let buyer: LoggedIn;
  let product = 0;
  const bearer = (user: LoggedIn) => ({ Authorization: `Bearer ${user.accessToken}` });
  const place = async () => {
    const res = await app.http
      .post('/api/v1/orders')
      .set(bearer(buyer))
      .set('Idempotency-Key', `k-${randomBytes(8).toString('hex')}`)
      .send({ items: [{ productId: product, quantity: 1 }] });
    expect(res.status).toBe(201);
    return res.body.data.id as number;
  };
  const exported = async () => {
    const res = await app.http.get('/api/v1/admin/orders/export').set(bearer(admin));
    expect(res.status).toBe(200);
    return res.text
      .trimEnd()
      .split('\r\n')
      .slice(1)
      .map((line) => Number(line.split(',')[0]));
  };
  const listed = async () =>
    (
      (await app.http.get('/api/v1/admin/orders').set(bearer(admin))).body.data.items as {
        id: number;
      }[]
    ).map((o) => o.id);

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
    app = await startTestApp({
      ...baseEnv(primaryDb, testRedisPrefix()),
      LOG_LEVEL: 'warn',
      WECHAT_API_BASE_URL: wx.url,
      ADMIN_OPENIDS: ADMIN_OPENID,
      DATABASE_REPLICA_URLS: `${pair.replicaUrl}/app`,
      READ_YOUR_WRITES_MS: '1000',
      WORKER_MODE: 'http',
    });
    admin = await loginAs(app, wx, { admin: true });
    const created = await app.http
      .post('/api/v1/admin/products')
      .set(bearer(admin))
      .send({ name: 'Pu-erh', priceCents: 700, stock: 100 });
    product = created.body.data.id as number;
    buyer = await loginAs(app, wx);
  }, 90_000);

  afterAll(async () => {
    await app?.close();
    await wx?.close();
    await pair?.stop();
  });

  it('lists and exports what the replica has applied', async () => {
    const first = await place();
    await pair.sync();
    // The admin's own write (the product) is older than its read-your-writes window.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await exported()).toEqual([first]);

    await pair.pauseReplication();
    const second = await place();
    try {
      expect(await exported()).toEqual([first]);
      expect(await listed()).toEqual([first]);
    } finally {
      await pair.resumeReplication();
    }
    await pair.sync();
    expect(await exported()).toEqual([second, first]);
    expect(await listed()).toEqual([second, first]);
  });
});
