import { createConnection, type Connection } from 'mysql2/promise';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { toErrorResponse } from '../src/common/http/index.js';
import { loadConfig } from '../src/config/index.js';
import { entities } from '../src/entities.js';
import { dataSourceOptions } from '../src/infra/database/index.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { bearer, createProduct, expect503 } from './helpers/answers.js';
import { loginAs } from './helpers/auth.js';
import {
  baseEnv,
  dropRedisKeys,
  TEST_MYSQL_URL,
  TEST_REDIS_URL,
  uniqueSuffix,
} from './helpers/env.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';
import { startOwnMariadb, type OwnMariadb } from './helpers/replica-pair.js';
import { useStack } from './helpers/stack.js';

const ADMIN_OPENID = 'dependency-admin';
const product = { name: 'Oolong', description: '', priceCents: 800, stock: 50 };

describe('a full connection pool answers 503 at once, never 500', () => {
  const stack = useStack({
    env: { ADMIN_OPENIDS: ADMIN_OPENID, DATABASE_POOL_SIZE: '1', DATABASE_POOL_QUEUE_LIMIT: '1' },
  });
  let holder: Connection;

  afterAll(async () => {
    await holder?.end();
  });

  it('orders beyond the pool queue get 503/50300 while a row lock holds the one connection; stock stays exact', async () => {
    const admin = await loginAs(stack.app, stack.wx, { admin: true });
    const user = await loginAs(stack.app, stack.wx);
    const productId = await createProduct(stack.app, admin, product);
    holder = await createConnection(`${TEST_MYSQL_URL.replace(/\/+$/, '')}/${stack.db.name}`);
    await holder.query('START TRANSACTION');
    await holder.query('SELECT stock FROM products WHERE id = ? FOR UPDATE', [productId]);

    const settled: { status: number }[] = [];
    const orders = Array.from({ length: 6 }, (_, i) =>
      stack.app.http
        .post('/api/v1/orders')
        .set(...bearer(user))
        .set('Idempotency-Key', `pool-full-${i}-${uniqueSuffix()}`)
        .send({ items: [{ productId, quantity: 1 }] })
        .then((res) => {
          settled.push(res);
          return res;
        }),
    );
    // One order holds the connection (waiting on the lock), one waits in the
    // queue: the other four are refused while the lock is still held.
    for (let i = 0; i < 100 && settled.length < 4; i++) await new Promise((r) => setTimeout(r, 50));
    const refused = [...settled];
    expect(refused.length).toBeGreaterThanOrEqual(4);
    for (const res of refused) expect503(res as never);

    await holder.query('ROLLBACK');
    const all = await Promise.all(orders);
    const placed = all.filter((r) => r.status === 201).length;
    expect(placed).toBe(6 - refused.length);
    expect(all.every((r) => r.status === 201 || r.status === 503)).toBe(true);
    const [row] = await stack.db.dataSource.query<{ stock: number }[]>(
      'SELECT stock FROM products WHERE id = ?',
      [productId],
    );
    expect(row.stock).toBe(product.stock - placed);
    expect(stack.app.logs.some((l) => l.message === 'unexpected error')).toBe(false);
  });
});

describe('InnoDB lock errors from a real MariaDB', () => {
  const name = `mpt_${uniqueSuffix()}`;
  let a: Connection;
  let b: Connection;

  beforeAll(async () => {
    a = await createConnection(TEST_MYSQL_URL);
    b = await createConnection(TEST_MYSQL_URL);
    await a.query(`CREATE DATABASE \`${name}\``);
    await a.query(`CREATE TABLE \`${name}\`.t (id INT PRIMARY KEY, n INT) ENGINE=InnoDB`);
    await a.query(`INSERT INTO \`${name}\`.t VALUES (1, 0), (2, 0)`);
    for (const c of [a, b]) await c.query('SET SESSION innodb_lock_wait_timeout = 1');
  });
  afterAll(async () => {
    await a?.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await a?.end();
    await b?.end();
  });

  it('a lock-wait timeout is 503/50300 with Retry-After, not an unexpected error', async () => {
    await a.query('START TRANSACTION');
    await a.query(`UPDATE \`${name}\`.t SET n = n + 1 WHERE id = 1`);
    const err = await b
      .query(`UPDATE \`${name}\`.t SET n = n + 1 WHERE id = 1`)
      .catch((e: unknown) => e);
    await a.query('ROLLBACK');
    expect((err as { code: string }).code).toBe('ER_LOCK_WAIT_TIMEOUT');
    expect(toErrorResponse(err)).toMatchObject({
      status: 503,
      code: 50300,
      unexpected: false,
      headers: { 'Retry-After': expect.any(String) },
    });
  });

  it('a deadlock is 409/40900 (the transaction was rolled back): retry', async () => {
    await a.query('START TRANSACTION');
    await b.query('START TRANSACTION');
    await a.query(`UPDATE \`${name}\`.t SET n = n + 1 WHERE id = 1`);
    await b.query(`UPDATE \`${name}\`.t SET n = n + 1 WHERE id = 2`);
    const first = a
      .query(`UPDATE \`${name}\`.t SET n = n + 1 WHERE id = 2`)
      .catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    const second = await b
      .query(`UPDATE \`${name}\`.t SET n = n + 1 WHERE id = 1`)
      .catch((e: unknown) => e);
    const outcomes = [await first, second];
    await a.query('ROLLBACK');
    await b.query('ROLLBACK');
    const deadlock = outcomes.find((e) => (e as { code?: string }).code === 'ER_LOCK_DEADLOCK');
    expect(deadlock).toBeDefined();
    expect(toErrorResponse(deadlock)).toMatchObject({
      status: 409,
      code: 40900,
      unexpected: false,
    });
  });
});

describe('MariaDB killed: 503 with Retry-After, cached reads still served, recovery', () => {
  const prefix = `t${uniqueSuffix()}:`;
  let mariadb: OwnMariadb;
  let wx: FakeWechat;
  let t: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    mariadb = await startOwnMariadb();
    const url = `${mariadb.url}/app`;
    const setup = await createConnection(mariadb.url);
    await setup.query('CREATE DATABASE app CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
    await setup.end();
    const migrator = new DataSource(
      await dataSourceOptions(loadConfig(baseEnv(url, prefix)), entities),
    );
    await migrator.initialize();
    await migrator.runMigrations();
    await migrator.destroy();
    wx = await startFakeWechat();
    t = await startTestApp({
      ...baseEnv(url, prefix),
      WECHAT_API_BASE_URL: wx.url,
      ADMIN_OPENIDS: ADMIN_OPENID,
      CACHE_L1_MAX_TTL_MS: '50',
    });
    redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix });
  }, 90_000);
  afterAll(async () => {
    await t?.close();
    await wx?.close();
    redis?.disconnect();
    await mariadb?.stop();
    await dropRedisKeys(prefix);
  });

  it('answers every database-backed route 503/50300 while it is down, serves the stale cache, and recovers', async () => {
    const admin = await loginAs(t, wx, { admin: true });
    const user = await loginAs(t, wx);
    const productId = await createProduct(t, admin, product);
    const cached = await t.http.get(`/api/v1/products/${productId}`);
    expect(cached.status).toBe(200);

    await mariadb.kill();
    // Past its TTL but within grace: the loader fails, the stale value is served.
    const key = `c:product:${productId}`;
    const entry = JSON.parse((await redis.get(key))!) as { f: number };
    await redis.set(key, JSON.stringify({ ...entry, f: Date.now() - 1000 }), 'PX', 60_000);
    await new Promise((r) => setTimeout(r, 100));
    const stale = await t.http.get(`/api/v1/products/${productId}`);
    expect(stale.status).toBe(200);
    expect(stale.body.data).toEqual(cached.body.data);

    expect503(await t.http.get('/api/v1/products/424242'));
    expect503(
      await t.http
        .patch('/api/v1/users/me')
        .set(...bearer(user))
        .send({ nickname: 'x' }),
    );
    expect503(await t.http.get('/api/v1/orders').set(...bearer(user)));
    expect503(
      await t.http
        .post('/api/v1/orders')
        .set(...bearer(user))
        .set('Idempotency-Key', `db-down-${uniqueSuffix()}`)
        .send({ items: [{ productId, quantity: 1 }] }),
    );
    expect503(await t.http.post('/api/v1/auth/login').send({ code: wx.issueCode({}).code }));
    expect(t.logs.some((l) => l.message === 'unexpected error')).toBe(false);

    await mariadb.start();
    let res = await t.http
      .patch('/api/v1/users/me')
      .set(...bearer(user))
      .send({ nickname: 'back' });
    for (let i = 0; i < 50 && res.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      res = await t.http
        .patch('/api/v1/users/me')
        .set(...bearer(user))
        .send({ nickname: 'back' });
    }
    expect(res.status).toBe(200);
    expect(res.body.data.nickname).toBe('back');
  }, 60_000);
});
