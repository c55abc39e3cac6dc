import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from '../config/index.js';
import { entities } from '../entities.js';
import { dataSourceOptions } from '../infra/database/index.js';
import { seedDemoProducts } from '../modules/catalog/index.js';

// `npm run seed`: loads the demo catalog into the database the environment
// names (embedded file or MySQL), after bringing its schema up to date. Safe
// to run again: products already there are left alone. Beside a running
// embedded server it is safe too: both write the same SQLite file under its
// write lock, and the server reads what the seed committed.
async function seed(): Promise<void> {
  const config = loadConfig(undefined, { cli: true });
  const dataSource = new DataSource({
    ...(await dataSourceOptions(config, entities)),
    migrationsRun: false,
  });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
    const added = await seedDemoProducts(dataSource);
    process.stdout.write(`seed: ${added} demo product(s) added\n`);
  } finally {
    await dataSource.destroy();
  }
}

await seed().catch((err: unknown) => {
  const message = err instanceof ConfigError || err instanceof Error ? err.message : String(err);
  process.stderr.write(`seed failed: ${message}\n`);
  process.exit(1);
});
