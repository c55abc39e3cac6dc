import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from '../config/index.js';
import { entities } from '../entities.js';
import { dataSourceOptions } from '../infra/database/index.js';

// `node dist/src/cli/await-migrations.js [--timeout-s=600] [--interval-s=2]`:
// exits 0 once every migration this build ships is applied to the database
// the environment names, 1 when the timeout passes first. Kubernetes runs it
// as an initContainer, so a new pod starts (and takes traffic) only after the
// migration Job of the same image has finished: the app itself never checks
// the schema on MySQL. It only reads (never creates the migrations table, which
// would race with the Job's `migration:run`).

function numberArg(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (arg === undefined) return fallback;
  const value = Number(arg.slice(name.length + 3));
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`--${name} must be a positive number`);
  }
  return value;
}

async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const table = dataSource.options.migrationsTableName ?? 'migrations';
  const runner = dataSource.createQueryRunner();
  try {
    const applied = new Set<string>();
    if (await runner.hasTable(table)) {
      const rows = (await runner.query(`SELECT name FROM ${table}`)) as { name: string }[];
      for (const row of rows) applied.add(row.name);
    }
    return dataSource.migrations
      .map((m) => m.name ?? m.constructor.name)
      .filter((name) => !applied.has(name));
  } finally {
    await runner.release();
  }
}

async function awaitMigrations(): Promise<boolean> {
  const timeoutMs = numberArg('timeout-s', 600) * 1000;
  const intervalMs = numberArg('interval-s', 2) * 1000;
  const config = loadConfig();
  // The embedded engine migrates itself at boot (one process owns the file).
  if (config.database.kind === 'embedded') return true;
  const deadline = Date.now() + timeoutMs;
  let dataSource: DataSource | undefined;
  let reported = '';
  try {
    for (;;) {
      let state: string;
      try {
        // dataSourceOptions asks the server its flavour: inside the retry too.
        dataSource ??= new DataSource({
          ...(await dataSourceOptions(config, entities)),
          migrationsRun: false,
        });
        if (!dataSource.isInitialized) await dataSource.initialize();
        const pending = await pendingMigrations(dataSource);
        if (pending.length === 0) {
          process.stdout.write('migrations: schema up to date\n');
          return true;
        }
        state = `migrations: waiting for ${pending.length} pending (${pending.join(', ')})`;
      } catch (err) {
        // The database may not answer yet (a fresh cluster); keep waiting.
        const code = (err as { code?: unknown }).code;
        state = `migrations: database not reachable yet (${typeof code === 'string' ? code : 'error'})`;
      }
      if (state !== reported) process.stdout.write(`${state}\n`);
      reported = state;
      if (Date.now() + intervalMs > deadline) return false;
      await sleep(intervalMs);
    }
  } finally {
    if (dataSource?.isInitialized) await dataSource.destroy();
  }
}

await awaitMigrations().then(
  (done) => {
    if (!done) process.stderr.write('migrations: timed out waiting for the migration job\n');
    process.exit(done ? 0 : 1);
  },
  (err: unknown) => {
    const message = err instanceof ConfigError || err instanceof Error ? err.message : String(err);
    process.stderr.write(`await-migrations failed: ${message}\n`);
    process.exit(1);
  },
);
