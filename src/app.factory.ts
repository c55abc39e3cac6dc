import compress from '@fastify/compress';
import cors from '@fastify/cors';
import { RequestMethod, type ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { LogController } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import { AppModule } from './app.module.js';
import {
  API_SECURITY_HEADERS,
  COMPRESSED_ROUTE,
  DOCS_SECURITY_HEADERS,
  installEnvelope,
  installRequestContext,
  requestIdFor,
} from './common/http/index.js';
import { createLogger, lazyChildLogger, PinoNestLogger } from './common/logging/index.js';
import type { AppConfig } from './config/index.js';
import { setupDocs } from './infra/docs/index.js';
import { ShutdownState } from './infra/lifecycle/index.js';

export interface CreatedApp {
  app: NestFastifyApplication;
  logger: Logger;
}

export interface CreateAppOptions {
  /** Where log lines go (tests read them); stdout by default. */
  logDestination?: DestinationStream;
  /** Modules mounted beside the real ones (the e2e suite's probe routes). */
  imports?: ModuleMetadata['imports'];
}

/**
 * Builds the application exactly as it runs in production; main.ts listens on
 * it, the e2e tests drive it.
 */
export async function createApp(
  config: AppConfig,
  options: CreateAppOptions = {},
): Promise<CreatedApp> {
  const logger = createLogger(config.log.level, options.logDestination);
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // One access line per request is nginx's job; ours would double the cost.
    logController: new LogController({
      disableRequestLogging: true,
      requestIdLogLabel: 'requestId',
    }),
    childLoggerFactory: lazyChildLogger,
    genReqId: requestIdFor,
    bodyLimit: config.http.bodyLimit,
    trustProxy: config.http.trustProxy.length > 0 ? config.http.trustProxy : false,
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config, options.imports),
    adapter,
    { logger: new PinoNestLogger(logger), abortOnError: false },
  );

  const fastify = app.getHttpAdapter().getInstance();
  const shutdown = app.get(ShutdownState);
  fastify.addHook('onRequest', (request, reply, done) => {
    // helmet's headers, computed once (see security-headers.ts); the docs UI gets its own CSP.
    void reply.headers(
      request.url.startsWith('/docs') ? DOCS_SECURITY_HEADERS : API_SECURITY_HEADERS,
    );
    void reply.header('x-request-id', request.id);
    // While draining, keep-alive clients are told to reconnect (to another replica).
    if (shutdown.isDraining) void reply.header('connection', 'close');
    done();
  });
  installEnvelope(fastify);
  installRequestContext(fastify);

  // Compression only where answers can be large (the docs, /metrics, routes marked
  // @Compressed()); every other route gets neither the compress nor the decompress hook.
  fastify.addHook('onRoute', (route) => {
    const url = route.url ?? '';
    const config = route.config as Record<string, unknown> | undefined;
    const wanted =
      url.startsWith('/docs') || url === '/metrics' || config?.[COMPRESSED_ROUTE] === true;
    route.compress = wanted ? {} : false;
    route.decompress = false;
  });
  await app.register(compress, { threshold: 2048, encodings: ['gzip', 'deflate'] });
  await app.register(cors, {
    origin: config.http.corsOrigins.length > 0 ? config.http.corsOrigins : false,
  });

  app.setGlobalPrefix('api/v1', {
    exclude: [
      { path: 'health/live', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
    ],
  });
  setupDocs(app);
  return { app, logger };
}
