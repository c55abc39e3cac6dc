import compress from '@fastify/compress';
import cors from '@fastify/cors';
import { RequestMethod, type ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { LogController } from 'fastify';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { DestinationStream, Logger } from 'pino';
import { AppModule } from './app.module.js';
import {
  API_SECURITY_HEADERS,
  COMPRESSED_ROUTE,
  DOCS_SECURITY_HEADERS,
  installEnvelope,
  installMethodNotAllowed,
  onClientError,
  onFrameworkError,
  onUnmetExpectation,
  jsonBodyParser,
  rawXmlBodyParser,
  installRequestContext,
  requestIdFor,
} from './common/http/index.js';
import { AppError } from './common/errors/index.js';
import { createLogger, lazyChildLogger, PinoNestLogger } from './common/logging/index.js';
import type { AppConfig } from './config/index.js';
import { setupDocs } from './infra/docs/index.js';
import { ShutdownState } from './infra/lifecycle/index.js';
import { activeTraceFields, installHttpTracing, startTracing } from './infra/tracing/index.js';

export interface CreatedApp {
  app: NestFastifyApplication;
  logger: Logger;
}

export interface CreateAppOptions {
  /** Where log lines go (tests read them); stdout by default. */
  logDestination?: DestinationStream;
  /** Modules mounted beside the real ones (the e2e suite's probe routes). */
  imports?: ModuleMetadata['imports'];
  /** Traces go to this exporter (the tests' in-process one) instead of OTLP; tracing is on. */
  spanExporter?: SpanExporter;
}

/**
 * Builds the application exactly as it runs in production; main.ts listens on
 * it, the e2e tests drive it.
 */
export async function createApp(
  config: AppConfig,
  options: CreateAppOptions = {},
): Promise<CreatedApp> {
  // Before anything is built: each seam decides once, when it is made, whether it traces.
  const stopTracing =
    config.tracing || options.spanExporter
      ? startTracing({
          serviceName: config.tracing?.serviceName ?? 'wx-mp-backend',
          sampleRatio: config.tracing?.sampleRatio ?? 1,
          endpoint: config.tracing?.endpoint,
          exporter: options.spanExporter,
        })
      : undefined;
  try {
    return await build(config, options, stopTracing);
  } catch (err) {
    await stopTracing?.();
    throw err;
  }
}

async function build(
  config: AppConfig,
  options: CreateAppOptions,
  stopTracing: (() => Promise<void>) | undefined,
): Promise<CreatedApp> {
  const logger = createLogger(
    config.log.level,
    options.logDestination,
    stopTracing && activeTraceFields,
  );
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
    // Node's defaults hold idle and slowloris sockets ~85 s; see HTTP_*_TIMEOUT_MS.
    connectionTimeout: config.http.connectionTimeoutMs,
    requestTimeout: config.http.requestTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    // Fastify's plain 503 while closing has no envelope: the onRequest hook below answers instead.
    return503OnClosing: false,
    frameworkErrors: onFrameworkError,
    http: {
      // Node answers a missing Host with a bare 400; the onRequest hook below answers it instead.
      requireHostHeader: false,
      // Node checks requestTimeout only this often (30 s by default), so a slowloris
      // client would be held up to 30 s past HTTP_REQUEST_TIMEOUT_MS.
      connectionsCheckingInterval: 1000,
    },
    clientErrorHandler: onClientError,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config, options.imports),
    adapter,
    { logger: new PinoNestLogger(logger), abortOnError: false },
  );

  const fastify = app.getHttpAdapter().getInstance();
  fastify.server.on('checkExpectation', onUnmetExpectation);
  app.useBodyParser('application/json', { bodyLimit: config.http.bodyLimit }, jsonBodyParser);
  // WeChat's message push in XML (the one route that takes a body other than JSON).
  app.useBodyParser(
    ['text/xml', 'application/xml'],
    { bodyLimit: config.http.bodyLimit },
    rawXmlBodyParser,
  );
  const shutdown = app.get(ShutdownState);
  // Last: spans of the requests and jobs that ended while closing are flushed.
  if (stopTracing) fastify.addHook('onClose', () => stopTracing());
  installHttpTracing(fastify);
  fastify.addHook('preClose', (done) => {
    shutdown.beginClose();
    done();
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    // helmet's headers, computed once (see security-headers.ts); the docs UI gets its own CSP.
    void reply.headers(
      request.url.startsWith('/docs') ? DOCS_SECURITY_HEADERS : API_SECURITY_HEADERS,
    );
    void reply.header('x-request-id', request.id);
    // While draining, keep-alive clients are told to reconnect (to another replica).
    if (shutdown.isDraining) void reply.header('connection', 'close');
    if (shutdown.isClosing) {
      done(new AppError('UNAVAILABLE', 'shutting down'));
      return;
    }
    // RFC 9112 §3.2: a 400 for HTTP/1.1 without Host, and for an empty one (an http URI has a host).
    const host = request.headers.host;
    if (host === '' || (host === undefined && request.raw.httpVersion === '1.1')) {
      done(new AppError('VALIDATION_FAILED', 'missing Host header'));
      return;
    }
    done();
  });
  installMethodNotAllowed(fastify);
  installEnvelope(fastify);
  installRequestContext(fastify, config.http.budgets);

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
  if (config.docs.enabled) setupDocs(app);
  return { app, logger };
}
