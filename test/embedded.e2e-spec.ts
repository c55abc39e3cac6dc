import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { SandboxWechatClient } from '../src/modules/wechat/index.js';
import { DEMO_PRODUCTS } from '../src/modules/catalog/index.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const execFileAsync = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
// Built by `npm test`'s pretest (nest build), as `npm run seed` runs it.
const seedCli = join(root, 'dist/src/cli/seed.js');
const writerFixture = join(root, 'test/fixtures/embedded-writer.mjs');
const WRITES = 60;

describe('embedded quick start (no DATABASE_URL, no REDIS_URL)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mp-embedded-'));
  const path = join(dir, 'nested', 'embedded.sqlite');
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ NODE_ENV: 'development', LOG_LEVEL: 'warn', EMBEDDED_DB_PATH: path });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves requests with in-process stores and reports itself ready', async () => {
    const res = await t.http.get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.data.details).toMatchObject({
      database: { status: 'up' },
      redis: { status: 'up', mode: 'in-process' },
    });
    expect(t.redis()).toBeNull();
  });

  it('applies the same migrations at boot to a database file under the given path', async () => {
    const ds = t.app.get(DataSource);
    const rows: { name: string }[] = await ds.query(
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    );
    expect(rows.map((r) => r.name)).toEqual(expect.arrayContaining(['migrations', 'users']));
    const pending = await ds.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    expect(existsSync(path)).toBe(true);
  });
});

// `npm run seed` (or any other process) beside a running server: with sql.js
// the server wrote its in-memory copy over the file at its next write and the
// seed's products were gone. Now both write the same SQLite file.
describe('embedded database shared with other processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mp-embedded-shared-'));
  const path = join(dir, 'embedded.sqlite');
  const env = {
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    EMBEDDED_DB_PATH: path,
    ADMIN_OPENIDS: SandboxWechatClient.openidFor('shared-admin'),
    THROTTLE_ORDERS_LIMIT: '100000',
  };
  const childEnv = { PATH: process.env.PATH, NODE_ENV: 'development', EMBEDDED_DB_PATH: path };
  const run = async (args: string[]) =>
    (await execFileAsync(process.execPath, args, { env: childEnv, cwd: root })).stdout;
  let t: TestApp | undefined;

  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every write of the server, `npm run seed` and a second writer, across a restart', async () => {
    t = await startTestApp(env);
    const dataSource = t.app.get(DataSource);
    const count = async () =>
      Number((await dataSource.query('SELECT COUNT(*) AS n FROM products'))[0].n);
    expect(await count()).toBe(DEMO_PRODUCTS.length);
    // Take three demo products out so the seed has something to write.
    const gone = DEMO_PRODUCTS.slice(0, 3).map((p) => p.name);
    await dataSource.query('DELETE FROM products WHERE name IN (?, ?, ?)', gone);

    const login = await t.http.post('/api/v1/auth/login').send({ code: 'shared-admin' });
    const bearer = { Authorization: `Bearer ${login.body.data.accessToken as string}` };
    const created = await t.http
      .post('/api/v1/admin/products')
      .set(bearer)
      .send({ name: 'Server tea', priceCents: 500, stock: 1000 });
    const productId = created.body.data.id as number;

    // The server places orders (read-then-write transactions) for as long as
    // the seed CLI and another writer process commit to the same file.
    let running = 2;
    const done = (p: Promise<string>) => p.finally(() => running--);
    const seeding = done(run([seedCli]));
    const writing = done(run([writerFixture, String(WRITES)]));
    const statuses: number[] = [];
    while (running > 0 && statuses.length < 200) {
      const order = await t.http
        .post('/api/v1/orders')
        .set(bearer)
        .set('Idempotency-Key', `shared-${statuses.length}`)
        .send({ items: [{ productId, quantity: 1 }] });
      statuses.push(order.status);
    }
    expect(statuses).toEqual(statuses.map(() => 201));
    expect(await seeding).toBe('seed: 3 demo product(s) added\n');
    const writerIds = JSON.parse(await writing) as number[];
    expect(writerIds).toHaveLength(WRITES);

    // The running server reads what the others committed, and its next write
    // does not undo them.
    const seeded = (await dataSource.query('SELECT id FROM products WHERE name = ?', [gone[0]]))[0];
    expect((await t.http.get(`/api/v1/products/${seeded.id}`)).body.data.name).toBe(gone[0]);
    expect((await t.http.get(`/api/v1/products/${writerIds.at(-1)}`)).status).toBe(200);
    const after = await t.http
      .post('/api/v1/admin/products')
      .set(bearer)
      .send({ name: 'Written last', priceCents: 700, stock: 1 });
    expect(after.status).toBe(201);
    await t.close();

    t = await startTestApp(env);
    const all = (await t.http.get('/api/v1/products?limit=100')).body.data.items as {
      id: number;
      name: string;
      stock: number;
    }[];
    const names = all.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining([...gone, 'Server tea', 'Written last']));
    expect(all.filter((p) => p.name.startsWith('writer '))).toHaveLength(WRITES);
    expect(all).toHaveLength(DEMO_PRODUCTS.length + 2 + WRITES);
    expect(all.find((p) => p.id === productId)?.stock).toBe(1000 - statuses.length);
    const placed = await t.app.get(DataSource).query('SELECT COUNT(*) AS n FROM orders');
    expect(Number(placed[0].n)).toBe(statuses.length);
  });
});
