import { migrations } from '../migrations/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

async function tables(db: TestDatabase): Promise<string[]> {
  const rows: { name: string }[] = await db.dataSource.query(
    'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()',
  );
  return rows.map((r) => r.name).sort();
}

describe('migrations on MariaDB', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('run up on an empty database and leave no drift from the entities', async () => {
    expect(await tables(db)).toEqual([]);
    const applied = await db.dataSource.runMigrations();
    expect(applied.map((m) => m.name)).toEqual(migrations.map((m) => m.name));
    expect(await tables(db)).toContain('users');
    // What `migration:generate` would write: nothing, or the entities and the
    // migrations disagree.
    const pending = await db.dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('enforce the unique openid', async () => {
    await db.dataSource.query("INSERT INTO users (openid) VALUES ('o-dup')");
    await expect(
      db.dataSource.query("INSERT INTO users (openid) VALUES ('o-dup')"),
    ).rejects.toThrow(/Duplicate entry/);
  });

  it('revert down to an empty schema, one by one', async () => {
    for (let i = 0; i < migrations.length; i++) await db.dataSource.undoLastMigration();
    expect(await tables(db)).toEqual(['migrations']);
    expect(await db.dataSource.showMigrations()).toBe(true);
  });
});
