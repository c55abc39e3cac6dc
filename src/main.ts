import 'reflect-metadata';
import { createApp } from './app.factory.js';
import { ConfigError, loadConfig, type AppConfig } from './config/index.js';
import { installGracefulShutdown } from './infra/lifecycle/index.js';

function describeBackends(config: AppConfig): string {
  const db = config.database;
  const database =
    db.kind === 'embedded'
      ? `embedded SQLite (better-sqlite3, WAL) at ${db.path}`
      : `MySQL primary ${db.primary.host}:${db.primary.port}` +
        (db.replicas.length > 0 ? ` + ${db.replicas.length} read replica(s)` : '');
  const stores = config.redis ? 'Redis' : 'in-process (single replica only)';
  return `backends: database=${database}; sessions/cache/throttle=${stores}`;
}

async function bootstrap(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const { app, logger } = await createApp(config);
  if (config.jwt.generated) {
    logger.warn(
      'JWT_SECRET is unset: using a random secret for this run (embedded mode only); tokens die with the process',
    );
  }
  installGracefulShutdown(app, config, logger);
  await app.listen({ port: config.http.port, host: config.http.host });
  logger.info(describeBackends(config));
  logger.info(`listening on http://${config.http.host}:${config.http.port} (docs at /docs)`);
}

// A failed boot prints one line, never a stack trace (it may name SQL or hosts' secrets).
await bootstrap().catch((err: unknown) => {
  process.stderr.write(`boot failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
