import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SpanKind, contextOf, tracing } from './tracing.js';

const spans = new WeakMap<FastifyRequest, Span>();

/** Probes and scrapes arrive every few seconds from every replica's orchestrator: no trace of theirs. */
const UNTRACED = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * A server span per request, continuing the caller's W3C `traceparent`.
 * Started in onRequest (so it times the whole request), made active in
 * preHandler (after the body is parsed, whose stream callbacks would lose a
 * context opened earlier; the request id's context opens there for the same
 * reason), ended in onResponse. Health probes and /metrics are not traced.
 * Installs nothing when tracing is off.
 */
export function installHttpTracing(fastify: FastifyInstance): void {
  const t = tracing();
  if (!t) return;
  fastify.addHook('onRequest', (request, _reply, done) => {
    const header = request.headers.traceparent;
    const route = request.routeOptions.url ?? 'unmatched';
    if (UNTRACED.has(route)) return done();
    const span = t.tracer.startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'http.route': route,
          'request.id': request.id,
        },
      },
      contextOf(typeof header === 'string' ? header : undefined),
    );
    spans.set(request, span);
    done();
  });
  fastify.addHook('preHandler', (request, _reply, done) => {
    const span = spans.get(request);
    if (!span) return done();
    t.contexts.with(trace.setSpan(t.contexts.active(), span), done);
  });
  const end = (request: FastifyRequest, status: number | undefined) => {
    const span = spans.get(request);
    if (!span) return;
    spans.delete(request);
    if (status === undefined) span.setAttribute('http.aborted', true);
    else span.setAttribute('http.response.status_code', status);
    // 4xx are the client's; only a server failure marks the span failed (OTel's HTTP conventions).
    if (status === undefined || status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };
  fastify.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    end(request, undefined);
    done();
  });
}
