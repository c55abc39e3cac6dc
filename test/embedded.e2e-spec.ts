import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { startTestApp, type TestApp } from './helpers/app.js';

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
