import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { parseTraceParent } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';

/**
 * The process's tracing state. Nothing here is registered with the
 * OpenTelemetry API's globals: the seams (HTTP hooks, query runners, the
 * Redis client, the WeChat clients, jobs) ask `tracing()` once when they are
 * built and install nothing when it is null, so with tracing off the hot
 * path runs no tracing code at all, not even the API's no-op spans.
 */
interface Tracing {
  tracer: Tracer;
  contexts: AsyncLocalStorageContextManager;
  provider: TracerProvider;
}

let current: Tracing | null = null;

export interface TracingOptions {
  serviceName: string;
  /** Share of new traces kept; a sampled parent is always followed. */
  sampleRatio: number;
  /** OTLP/HTTP base URL (traces go to `<endpoint>/v1/traces`). */
  endpoint?: string;
  /** An exporter of the caller's (the tests' in-process one); spans go to it one by one. */
  exporter?: SpanExporter;
}

/** Starts tracing for this process; returns the function that flushes and stops it. */
export function startTracing(options: TracingOptions): () => Promise<void> {
  if (current) throw new Error('tracing is already started in this process');
  const processor = options.exporter
    ? new SimpleSpanProcessor({ exporter: options.exporter })
    : new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({
          url: `${options.endpoint!.replace(/\/+$/, '')}/v1/traces`,
        }),
      });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) }),
    spanProcessors: [processor],
  });
  const contexts = new AsyncLocalStorageContextManager().enable();
  const started: Tracing = { tracer: provider.getTracer('wx-mp-backend'), contexts, provider };
  current = started;
  return async () => {
    if (current === started) current = null;
    contexts.disable();
    await provider.shutdown().catch(() => undefined);
  };
}

/** The running tracing, or null when it is off (seams then install nothing). */
export function tracing(): Tracing | null {
  return current;
}

/** The context a job or a piece of work continues: its traceparent's, or a new root. */
export function contextOf(traceparent: string | null | undefined): Context {
  const parent = traceparent ? parseTraceParent(traceparent) : null;
  return parent ? trace.setSpanContext(ROOT_CONTEXT, { ...parent, isRemote: true }) : ROOT_CONTEXT;
}

/** `00-<trace id>-<span id>-<flags>` of the active span, for a job or an outgoing call; null when none. */
export function activeTraceparent(): string | null {
  const span = current && trace.getSpan(current.contexts.active());
  if (!span) return null;
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, '0')}`;
}

/** Trace and span ids of the active span, for log lines. */
export function activeTraceFields(): { traceId: string; spanId: string } | undefined {
  const span = current && trace.getSpan(current.contexts.active());
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** Start a trace when no span is active (a job, a request); else only a child is made. */
  root?: boolean;
  /** Parent to use instead of the active context (a job's stored traceparent). */
  parent?: Context;
}

/**
 * Runs `fn` inside a new span, ended (and marked failed on a throw) when it
 * settles. Without tracing, or without a parent where one is required (the
 * relay's polling, a sweeper's queries), `fn` just runs: background loops do
 * not make a trace per poll.
 */
export async function inSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  const t = current;
  if (!t) return fn(undefined);
  const parent = options.parent ?? t.contexts.active();
  if (!options.root && !trace.getSpan(parent)) return fn(undefined);
  const span = t.tracer.startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes },
    parent,
  );
  try {
    return await t.contexts.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** Marks a span failed with the error's class name only: messages may quote SQL or URLs with tokens. */
export function failSpan(span: Span, err: unknown): void {
  const type = err instanceof Error ? err.name : typeof err;
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
  span.setAttribute('error.type', type);
}

export { SpanKind };
