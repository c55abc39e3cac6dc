// The bench database: created fresh, migrated with the project's own
// migrations (TypeORM CLI on the built output), seeded in bulk, dropped after.
import { execFileSync } from 'node:child_process';
import { createConnection } from 'mysql2/promise';

const CHUNK = 2000;

export async function createBenchDatabase(mysqlUrl, name) {
  const root = mysqlUrl.replace(/\/+$/, '');
  const admin = await createConnection(root);
  await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const url = `${root}/${name}`;
  return {
    url,
    /** Applies every migration, with the app's environment (DATABASE_URL …). */
    migrate(env) {
      execFileSync(
        process.execPath,
        ['node_modules/typeorm/cli.js', '-d', 'dist/src/data-source.js', 'migration:run'],
        { env: { ...env, DATABASE_URL: url }, stdio: ['ignore', 'ignore', 'inherit'] },
      );
    },
    /** `count` products with ids 1..count (the table starts empty). */
    async seedProducts(count) {
      await insertRows(url, 'products', ['name', 'description', 'price_cents', 'stock', 'image_url'], count, (i) => [
        `Bench tea ${i}`,
        `Bench product number ${i}, a description of ordinary length for a product page.`,
        100 + (i % 500) * 10,
        1_000_000,
        `https://img.example.com/products/${i}.jpg`,
      ]);
    },
    /** `count` users with openids bench-user-0..count-1; returns their ids in that order. */
    async seedUsers(count, offset = 0) {
      await insertRows(url, 'users', ['openid', 'nickname', 'role'], count, (i) => [
        `bench-user-${offset + i - 1}`,
        `user ${offset + i - 1}`,
        'user',
      ]);
      const c = await createConnection(url);
      const [rows] = await c.query(
        'SELECT id FROM (SELECT id FROM users ORDER BY id DESC LIMIT ?) t ORDER BY id',
        [count],
      );
      await c.end();
      return rows.map((r) => r.id);
    },
    /** The first column of the first row of `sql`. */
    async scalar(sql) {
      const c = await createConnection(url);
      try {
        const [rows] = await c.query(sql);
        return Object.values(rows[0] ?? {})[0];
      } finally {
        await c.end();
      }
    },
    async drop() {
      const c = await createConnection(root);
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}

async function insertRows(url, table, columns, count, row) {
  const c = await createConnection(url);
  try {
    for (let start = 1; start <= count; start += CHUNK) {
      const rows = [];
      for (let i = start; i < Math.min(start + CHUNK, count + 1); i++) rows.push(row(i));
      await c.query(`INSERT INTO \`${table}\` (${columns.join(',')}) VALUES ?`, [rows]);
    }
  } finally {
    await c.end();
  }
}
