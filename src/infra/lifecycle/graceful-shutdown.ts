import { setTimeout as sleep } from 'node:timers/promises';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import type { AppConfig } from '../../config/index.js';
import { ShutdownState } from './shutdown-state.js';

/**
 * SIGTERM/SIGINT: readiness turns 503 at once; after SHUTDOWN_DRAIN_MS (time
 * for nginx or the orchestrator to notice) the server stops accepting,
 * finishes in-flight requests, then DB and Redis close and the process exits 0.
 * If that takes longer than SHUTDOWN_TIMEOUT_MS the process exits 1 anyway.
 */
export function installGracefulShutdown(
  app: NestFastifyApplication,
  config: AppConfig,
  logger: Logger,
): void {
  const state = app.get(ShutdownState);
  let started = false;

  const shutdown = async (signal: NodeJS.Signals) => {
    if (started) return;
    started = true;
    state.beginDrain();
    logger.info({ signal, drainMs: config.shutdown.drainMs }, 'shutdown: draining');
    const deadline = setTimeout(() => {
      logger.error('shutdown: timed out, exiting');
      process.exit(1);
    }, config.shutdown.drainMs + config.shutdown.timeoutMs);
    deadline.unref();
    await sleep(config.shutdown.drainMs);
    try {
      await app.close();
      logger.info('shutdown: complete');
      logger.flush();
      process.exit(0);
    } catch (err) {
      logger.error({ err: { type: (err as Error).name } }, 'shutdown: failed');
      process.exit(1);
    }
  };

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, (s: NodeJS.Signals) => void shutdown(s));
  }
}
