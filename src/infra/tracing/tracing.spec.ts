import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { createLogger } from '../../common/logging/index.js';
import {
  activeTraceFields,
  activeTraceparent,
  contextOf,
  inSpan,
  startTracing,
  tracing,
} from './tracing.js';

function logLines(run: (log: ReturnType<typeof createLogger>) => Promise<void>) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const log = createLogger('info', stream, activeTraceFields);
  return run(log).then(() => lines.map((l) => JSON.parse(l) as Record<string, unknown>));
}

describe('tracing off', () => {
  it('runs the work without a span and has no traceparent to propagate', async () => {
    expect(tracing()).toBeNull();
    const seen = await inSpan('job x', { root: true }, (span) => Promise.resolve(span));
    expect(seen).toBeUndefined();
    expect(activeTraceparent()).toBeNull();
    expect(activeTraceFields()).toBeUndefined();
  });
});

describe('tracing on', () => {
  // A new exporter each time: stopping tracing shuts its exporter down for good.
  let exporter: InMemorySpanExporter;
  // The span processor hands an ended span to the exporter on a later tick.
  const finished = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return exporter.getFinishedSpans();
  };
  let stop: () => Promise<void>;
  beforeEach(() => {
    exporter = new InMemorySpanExporter();
    stop = startTracing({ serviceName: 'spec', sampleRatio: 1, exporter });
  });
  afterEach(() => stop());

  it('puts the active span trace and span ids on every log line written inside it, none outside', async () => {
    const lines = await logLines(async (log) => {
      await inSpan('job a', { root: true }, async () => {
        log.info('inside');
        await sleep(1);
        log.warn({ queue: 'q' }, 'inside after a tick');
      });
      log.info('outside');
    });
    const [span] = await finished();
    const ids = { traceId: span.spanContext().traceId, spanId: span.spanContext().spanId };
    expect(lines[0]).toMatchObject({ message: 'inside', ...ids });
    expect(lines[1]).toMatchObject({ message: 'inside after a tick', queue: 'q', ...ids });
    expect(lines[2].traceId).toBeUndefined();
  });

  it('continues a stored traceparent and propagates the child span as the new one', async () => {
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const propagated = await inSpan('job b', { root: true, parent: contextOf(parent) }, () =>
      Promise.resolve(activeTraceparent()),
    );
    const [span] = await finished();
    expect(span.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(propagated).toBe(`00-0af7651916cd43dd8448eb211c80319c-${span.spanContext().spanId}-01`);
  });

  it('starts a new trace from a malformed traceparent instead of failing', async () => {
    await inSpan('job c', { root: true, parent: contextOf('00-zz-bad-01') }, () =>
      Promise.resolve(),
    );
    expect((await finished())[0].parentSpanContext).toBeUndefined();
  });

  it('makes no child span without an active parent unless asked to start a trace', async () => {
    await inSpan('db SELECT', {}, () => Promise.resolve());
    expect(await finished()).toEqual([]);
  });

  it('marks a failed span with the error class only, never its message, and rethrows', async () => {
    await expect(
      inSpan('wechat code2session', { root: true }, () =>
        Promise.reject(new TypeError('GET /sns?secret=s3cr3t failed')),
      ),
    ).rejects.toThrow(TypeError);
    const [span] = await finished();
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'TypeError' });
    expect(JSON.stringify([span.attributes, span.status, span.events])).not.toContain('s3cr3t');
  });

  it('refuses a second start in the same process', () => {
    expect(() => startTracing({ serviceName: 'again', sampleRatio: 1, exporter })).toThrow(
      /already started/,
    );
  });
});
