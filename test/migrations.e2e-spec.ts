import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { migrations } from '../migrations/index.js';
import { loadConfig } from '../src/config/index.js';
import { entities } from '../src/entities.js';
import { dataSourceOptions } from '../src/infra/database/index.js';
import { createTestDatabase } from './helpers/database.js';

interface MigrationTarget {
  dataSource: DataSource;
  tables(): Promise<string[]>;
  drop(): Promise<void>;
}

async function mariadb(): Promise<MigrationTarget> {
  const db = await createTestDatabase({ migrate: false });
  return {
    dataSource: db.dataSource,
    async tables() {
      const rows: { name: string }[] = await db.dataSource.query(
        'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()',
      );
      return rows.map((r) => r.name).sort();
    },
    drop: () => db.drop(),
  };
}

async function embedded(): Promise<MigrationTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'mp-migrations-'));
  const config = loadConfig({ NODE_ENV: 'test', EMBEDDED_DB_PATH: join(dir, 'db.sqlite') });
  const dataSource = new DataSource({
    ...(await dataSourceOptions(config, entities)),
    migrationsRun: false,
  });
  await dataSource.initialize();
  return {
    dataSource,
    async tables() {
      const rows: { name: string }[] = await dataSource.query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
      );
      return rows.map((r) => r.name).sort();
    },
    async drop() {
      await dataSource.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The same schema-builder migrations on both engines the app runs on.
describe.each([
  { engine: 'MariaDB', open: mariadb, duplicate: /Duplicate entry/ },
  {
    engine: 'the embedded engine (better-sqlite3)',
    open: embedded,
    duplicate: /UNIQUE constraint/,
  },
])('migrations on $engine', ({ open, duplicate }) => {
  let db: MigrationTarget;

  beforeAll(async () => {
    db = await open();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('run up on an empty database and leave no drift from the entities', async () => {
    expect(await db.tables()).toEqual([]);
    const applied = await db.dataSource.runMigrations();
    expect(applied.map((m) => m.name)).toEqual(migrations.map((m) => m.name));
    expect(await db.tables()).toContain('users');
    // What `migration:generate` would write: nothing, or the entities and the
    // migrations disagree.
    const pending = await db.dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('enforce the unique openid', async () => {
    await db.dataSource.query("INSERT INTO users (openid) VALUES ('o-dup')");
    await expect(
      db.dataSource.query("INSERT INTO users (openid) VALUES ('o-dup')"),
    ).rejects.toThrow(duplicate);
  });

  it('carry earlier rows through AddAddresses and AddStaffRoles: grants become admin, products express', async () => {
    // Back to before AddAddresses: it and every migration after it are undone.
    const since = migrations.findIndex((m) => m.name === 'AddAddresses1732950000000');
    expect(since).toBeGreaterThan(0);
    const later = migrations.slice(since).map((m) => m.name);
    for (let i = 0; i < later.length; i++) await db.dataSource.undoLastMigration();
    await db.dataSource.query(
      "INSERT INTO users (openid, role, admin_granted_at) VALUES ('o-granted', 'admin', ?), ('o-plain', 'user', NULL)",
      ['2026-01-01 08:00:00'],
    );
    await db.dataSource.query("INSERT INTO products (name, price_cents) VALUES ('Old tea', 100)");
    const applied = await db.dataSource.runMigrations();
    expect(applied.map((m) => m.name)).toEqual(later);
    const users: { openid: string; granted_role: string | null }[] = await db.dataSource.query(
      "SELECT openid, granted_role FROM users WHERE openid IN ('o-granted', 'o-plain') ORDER BY openid",
    );
    expect(users).toEqual([
      { openid: 'o-granted', granted_role: 'admin' },
      { openid: 'o-plain', granted_role: null },
    ]);
    expect(
      await db.dataSource.query("SELECT delivery FROM products WHERE name = 'Old tea'"),
    ).toEqual([{ delivery: 'express' }]);
  });

  it('carry a shipment through AddShipmentPackages as package 0; the revert keeps only package 0', async () => {
    // Back to just before AddShipmentPackages, whatever came after it.
    const from = migrations.findIndex((m) => m.name === 'AddShipmentPackages1733010000000');
    const reapplied = migrations.slice(from).map((m) => m.name);
    const undoFrom = async () => {
      for (let i = 0; i < reapplied.length; i++) await db.dataSource.undoLastMigration();
    };
    expect(from).toBeGreaterThan(0);
    await undoFrom();
    const at = '2026-01-02 08:00:00';
    await db.dataSource.query(
      "INSERT INTO order_shipments (order_id, carrier, tracking_no, shipped_at) VALUES (7, 'SF', 'SF-OLD', ?)",
      [at],
    );
    expect((await db.dataSource.runMigrations()).map((m) => m.name)).toEqual(reapplied);
    await db.dataSource.query(
      "INSERT INTO order_shipments (order_id, package_index, carrier, tracking_no, shipped_at) VALUES (7, 1, 'ZTO', 'ZT-NEW', ?)",
      [at],
    );
    const rows = () =>
      db.dataSource.query(
        'SELECT package_index, tracking_no FROM order_shipments WHERE order_id = 7 ORDER BY package_index',
      );
    expect(await rows()).toEqual([
      { package_index: 0, tracking_no: 'SF-OLD' },
      { package_index: 1, tracking_no: 'ZT-NEW' },
    ]);
    // The key is (order, package): the same package twice is refused.
    await expect(
      db.dataSource.query(
        'INSERT INTO order_shipments (order_id, package_index, shipped_at) VALUES (7, 1, ?)',
        [at],
      ),
    ).rejects.toThrow(duplicate);
    await undoFrom();
    expect(
      await db.dataSource.query('SELECT tracking_no FROM order_shipments WHERE order_id = 7'),
    ).toEqual([{ tracking_no: 'SF-OLD' }]);
    await db.dataSource.runMigrations();
  });

  it('revert down to an empty schema, one by one', async () => {
    for (let i = 0; i < migrations.length; i++) await db.dataSource.undoLastMigration();
    expect(await db.tables()).toEqual(['migrations']);
    expect(await db.dataSource.showMigrations()).toBe(true);
  });
});
