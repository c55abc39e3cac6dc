// First: Nest's modules load with Intl.DateTimeFormat deferred (see the file).
import { restoreDateTimeFormat } from './deferred-intl.js';
import 'reflect-metadata';
import { createApp } from './app.factory.js';
import {
  ConfigError,
  describeBackends,
  loadConfig,
  withDevJwtSecret,
  type AppConfig,
} from './config/index.js';
import { installGracefulShutdown } from './infra/lifecycle/index.js';

async function bootstrap(): Promise<void> {
  restoreDateTimeFormat();
  let config: AppConfig;
  try {
    config = withDevJwtSecret(loadConfig());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  // First, before Nest logs its modules and routes: what this process runs on.
  process.stdout.write(`${describeBackends(config)}\n`);
  const { app, logger } = await createApp(config);
  if (config.jwt.secretFile) {
    logger.warn(
      `JWT_SECRET is unset: signing with the development secret in ${config.jwt.secretFile} (made once, mode 0600); set JWT_SECRET anywhere else`,
    );
  }
  installGracefulShutdown(app, config, logger);
  await app.listen({ port: config.http.port, host: config.http.host });
  logger.info(`listening on http://${config.http.host}:${config.http.port} (docs at /docs)`);
}

// A failed boot prints one line, never a stack trace (it may name SQL or hosts' secrets).
await bootstrap().catch((err: unknown) => {
  process.stderr.write(`boot failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
