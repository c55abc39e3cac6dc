import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/index.js';
import { entities } from '../src/entities.js';
import { dataSourceOptions } from '../src/infra/database/index.js';
import { DEMO_PRODUCTS, ProductStock, seedDemoProducts } from '../src/modules/catalog/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, testRedisPrefix } from './helpers/env.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { loginAs } from './helpers/auth.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';

describe('Catalog stock API (for orders) and the demo seed', () => {
  let db: TestDatabase;
  let t: TestApp;
  let stock: ProductStock;
  let dataSource: DataSource;
  let wx: FakeWechat;
  let adminToken: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    wx = await startFakeWechat();
    t = await startTestApp({
      ...baseEnv(db.url, testRedisPrefix()),
      LOG_LEVEL: 'warn',
      WECHAT_API_BASE_URL: wx.url,
      ADMIN_OPENIDS: 'stock-admin',
    });
    adminToken = (await loginAs(t, wx, { admin: true })).accessToken;
    stock = t.app.get(ProductStock);
    dataSource = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t?.close();
    await wx?.close();
    await db?.drop();
  });

  const newProduct = async (units: number) => {
    const res = await t.http
      .post('/api/v1/admin/products')
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ name: 'Stocked', priceCents: 100, stock: units });
    return res.body.data.id as number;
  };
  const stockOf = async (id: number) =>
    Number((await db.dataSource.query('SELECT stock FROM products WHERE id = ?', [id]))[0].stock);

  it('never takes stock below zero, however many transactions race', async () => {
    const id = await newProduct(5);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => dataSource.transaction((m) => stock.take(m, id, 1))),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(5);
    expect(await stockOf(id)).toBe(0);
  });

  it('takes nothing when short, missing or deleted', async () => {
    const id = await newProduct(2);
    expect(await dataSource.transaction((m) => stock.take(m, id, 3))).toBe(false);
    expect(await stockOf(id)).toBe(2);
    expect(await dataSource.transaction((m) => stock.take(m, 999_999, 1))).toBe(false);
    await t.http
      .delete(`/api/v1/admin/products/${id}`)
      .set('Authorization', `Bearer ${adminToken}`);
    expect(await dataSource.transaction((m) => stock.take(m, id, 1))).toBe(false);
  });

  it('rolls back with the caller transaction', async () => {
    const id = await newProduct(4);
    await expect(
      dataSource.transaction(async (m) => {
        expect(await stock.take(m, id, 3)).toBe(true);
        throw new Error('order failed later');
      }),
    ).rejects.toThrow('order failed later');
    expect(await stockOf(id)).toBe(4);
  });

  it('gives stock back and, once told, every read serves the new stock', async () => {
    const id = await newProduct(3);
    expect((await t.http.get(`/api/v1/products/${id}`)).body.data.stock).toBe(3);
    await dataSource.transaction((m) => stock.take(m, id, 2));
    await stock.stockChanged([id]);
    expect((await t.http.get(`/api/v1/products/${id}`)).body.data.stock).toBe(1);
    await dataSource.transaction((m) => stock.giveBack(m, id, 2));
    await stock.stockChanged([id]);
    expect((await t.http.get(`/api/v1/products/${id}`)).body.data.stock).toBe(3);
  });

  it('seeds the demo products once, on MariaDB', async () => {
    const before = Number((await db.dataSource.query('SELECT COUNT(*) AS n FROM products'))[0].n);
    expect(await seedDemoProducts(db.dataSource)).toBe(DEMO_PRODUCTS.length);
    expect(await seedDemoProducts(db.dataSource)).toBe(0);
    const after = Number((await db.dataSource.query('SELECT COUNT(*) AS n FROM products'))[0].n);
    expect(after - before).toBe(DEMO_PRODUCTS.length);
  });

  it('seeds the demo products once, on the embedded engine', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seed-embedded-'));
    try {
      const config = loadConfig({ NODE_ENV: 'test', EMBEDDED_DB_PATH: join(dir, 'db.sqlite') });
      const embedded = new DataSource(await dataSourceOptions(config, entities));
      await embedded.initialize();
      expect(await seedDemoProducts(embedded)).toBe(DEMO_PRODUCTS.length);
      expect(await seedDemoProducts(embedded)).toBe(0);
      expect(await embedded.query('SELECT COUNT(*) AS n FROM products')).toEqual([
        { n: DEMO_PRODUCTS.length },
      ]);
      await embedded.destroy();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
