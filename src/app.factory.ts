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
  CONSOLE_SECURITY_HEADERS,
  DOCS_SECURITY_HEADERS,
  installEnvelope,
  installMethodNotAllowed,
  onClientError,
  onFrameworkError,
  onUnmetExpectation,
  jsonBodyParser,
  rawXmlBodyParser,
  installLeanRoutes,
  installRequestContext,
  requestIdFor,
  routableUrl,
  sendError,
} from './common/http/index.js';
import { AppError, validationError } from './common/errors/index.js';
import { createLogger, lazyChildLogger, PinoNestLogger } from './common/logging/index.js';
import type { AppConfig } from './config/index.js';
import { serveConsole } from './infra/console/index.js';
import { setupDocs } from './infra/docs/index.js';
import { closingResponses, ShutdownState, type ClosingResponses } from './infra/lifecycle/index.js';
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
  // Decides `Connection: close` when an answer is written, so answers to
  // requests already in flight when the drain begins carry it too.
  const responses = closingResponses();
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config, options.imports),
    fastifyAdapter(config, logger, responses),
    // No form parser: bodies are JSON only (docs/http-api.md), and Nest's default
    // would accept `code=x` on every route the OpenAPI document calls JSON.
    { logger: new PinoNestLogger(logger), abortOnError: false, bodyParser: false },
  );
  installRequestHooks(app, config, stopTracing, responses);
  installLeanRoutes(app);
  await installCompressionAndCors(app, config);

  app.setGlobalPrefix('api/v1', {
    exclude: [
      { path: 'health/live', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
      // The staff console's sign-in routes sit beside its page (docs/console.md).
      { path: 'console/{*path}', method: RequestMethod.ALL },
    ],
  });
  if (config.docs.enabled) setupDocs(app);
  await serveConsole(app, config.console.dir);
  return { app, logger };
}

/** Fastify's server options: logging, request ids, limits and socket timeouts. */
function fastifyAdapter(
  config: AppConfig,
  logger: Logger,
  responses: ClosingResponses,
): FastifyAdapter {
  return new FastifyAdapter({
    loggerInstance: logger,
    // No Nest middleware anywhere (hooks and guards do that work): without
    // middie, no request pays for its hook.
    skipMiddie: true,
    // One access line per request is nginx's job; ours would double the cost.
    logController: new LogController({
      disableRequestLogging: true,
      requestIdLogLabel: 'requestId',
    }),
    childLoggerFactory: lazyChildLogger,
    genReqId: requestIdFor,
    rewriteUrl: routableUrl,
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
      ServerResponse: responses.ServerResponse,
    },
    clientErrorHandler: onClientError,
  });
}

/**
 * The body parser and the hooks every request passes: tracing, the
 * security headers and request id, shutdown, the Host check, 405s, the
 * envelope and the request's context (its budget).
 */
function installRequestHooks(
  app: NestFastifyApplication,
  config: AppConfig,
  stopTracing: (() => Promise<void>) | undefined,
  responses: ClosingResponses,
): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.server.on('checkExpectation', onUnmetExpectation);
  // Fastify's own text/plain parser goes too: any type but JSON is 415 in the envelope.
  fastify.removeContentTypeParser('text/plain');
  app.useBodyParser('application/json', { bodyLimit: config.http.bodyLimit }, jsonBodyParser);
  // WeChat's message push in XML (the one route that takes a body other than JSON).
  app.useBodyParser(
    ['text/xml', 'application/xml'],
    { bodyLimit: config.http.bodyLimit },
    rawXmlBodyParser,
  );
  const shutdown = app.get(ShutdownState);
  responses.follow(shutdown);
  // Last: spans of the requests and jobs that ended while closing are flushed.
  if (stopTracing) fastify.addHook('onClose', () => stopTracing());
  installHttpTracing(fastify);
  fastify.addHook('preClose', (done) => {
    shutdown.beginClose();
    done();
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    // helmet's headers, computed once (see security-headers.ts); the docs UI and the console get their own CSP.
    void reply.headers(securityHeadersFor(request.url));
    void reply.header('x-request-id', request.id);
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
}

function securityHeadersFor(url: string): Record<string, string> {
  if (url.startsWith('/docs')) return DOCS_SECURITY_HEADERS;
  if (url === '/console' || url.startsWith('/console/')) return CONSOLE_SECURITY_HEADERS;
  return API_SECURITY_HEADERS;
}

const PREFLIGHT_METHOD = 'access-control-request-method';

async function installCompressionAndCors(
  app: NestFastifyApplication,
  config: AppConfig,
): Promise<void> {
  // Compression only where answers can be large (the docs, /metrics, the console's files, routes marked
  // @Compressed()); every other route gets neither the compress nor the decompress hook.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      const url = route.url ?? '';
      const routeConfig = route.config as Record<string, unknown> | undefined;
      const wanted =
        url.startsWith('/docs') ||
        url === '/metrics' ||
        url === '/console/*' ||
        routeConfig?.[COMPRESSED_ROUTE] === true;
      route.compress = wanted ? {} : false;
      route.decompress = false;
    });
  await app.register(compress, { threshold: 2048, encodings: ['gzip', 'deflate'] });
  // Without CORS_ORIGINS no browser origin is allowed, and the plugin would
  // only add a hook to every request that decides nothing. An OPTIONS is then
  // a method the path does not have: 405 with Allow.
  if (config.http.corsOrigins.length > 0) {
    // @fastify/cors answers an OPTIONS that is not a preflight (no Origin or
    // no Access-Control-Request-Method) with a plain-text 400. This hook, ahead
    // of the plugin's, refuses it in the envelope. It answers with the filter's
    // sendError itself: the plugin's `OPTIONS *` route, registered before Nest
    // sets its error handler, keeps Fastify's default one.
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onRequest', (request, reply, done) => {
        const { origin } = request.headers;
        if (request.method !== 'OPTIONS' || (origin && request.headers[PREFLIGHT_METHOD])) {
          done();
          return;
        }
        sendError(
          validationError([
            {
              field: origin ? PREFLIGHT_METHOD : 'origin',
              message:
                'a CORS preflight needs the Origin and Access-Control-Request-Method headers',
            },
          ]),
          request,
          reply,
        );
      });
    await app.register(cors, { origin: config.http.corsOrigins });
  }
}
