import { createConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/index.js';
import { entities } from '../../src/entities.js';
import { dataSourceOptions } from '../../src/infra/database/index.js';
import { baseEnv, TEST_MYSQL_URL, uniqueSuffix } from './env.js';

export interface TestDatabase {
  name: string;
  url: string;
  /** A data source on the test database, for assertions and setup. */
  dataSource: DataSource;
  drop(): Promise<void>;
}

async function admin<T>(fn: (sql: (q: string) => Promise<unknown>) => Promise<T>): Promise<T> {
  const conn = await createConnection(TEST_MYSQL_URL);
  try {
    return await fn((q) => conn.query(q));
  } finally {
    await conn.end();
  }
}

/**
 * Creates a fresh database for one test file (so parallel files and parallel
 * runs never collide), optionally migrated to the latest schema.
 */
export async function createTestDatabase(
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const name = `mpt_${uniqueSuffix()}`;
  await admin((sql) =>
    sql(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`),
  );
  const url = `${TEST_MYSQL_URL.replace(/\/+$/, '')}/${name}`;
  const config = loadConfig({ ...baseEnv(url, 'unused:'), DATABASE_POOL_SIZE: '2' });
  const dataSource = new DataSource(await dataSourceOptions(config, entities));
  await dataSource.initialize();
  if (options.migrate ?? true) await dataSource.runMigrations();
  return {
    name,
    url,
    dataSource,
    async drop() {
      await dataSource.destroy();
      await admin((sql) => sql(`DROP DATABASE IF EXISTS \`${name}\``));
    },
  };
}
