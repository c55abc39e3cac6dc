import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { startTestApp, type TestApp } from './helpers/app.js';
import { loginAs } from './helpers/auth.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, dropRedisKeys, testRedisPrefix } from './helpers/env.js';
import { startFakeWechat, type FakeWechat } from './helpers/fake-wechat.js';
import { useStack } from './helpers/stack.js';
import { until } from './helpers/until.js';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const parentIdOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

/** Every span of `traceId`, and a check that each one's parent is in the trace or is `rootParent`. */
function traceOf(exporter: InMemorySpanExporter, traceId: string, rootParent: string) {
  const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const orphans = spans.filter((s) => !ids.has(parentIdOf(s)!) && parentIdOf(s) !== rootParent);
  return {
    spans,
    orphans,
    named: (prefix: string) => spans.filter((s) => s.name.startsWith(prefix)),
  };
}

describe('one trace per request, its SQL, Redis and WeChat calls and the jobs it caused (MariaDB + Redis, BullMQ)', () => {
  const exporter = new InMemorySpanExporter();
  const stack = useStack({
    spanExporter: exporter,
    env: { LOG_LEVEL: 'warn', ADMIN_OPENIDS: 'admin-openid', ORDER_PAYMENT_TIMEOUT_S: '1' },
  });

  it('continues the caller traceparent through login: server span, SQL, Redis, and code2session carrying it to WeChat', async () => {
    const traceId = hex(16);
    const callerSpan = hex(8);
    const { code } = stack.wx.issueCode();
    stack.wx.traceparents.length = 0;
    const res = await stack.app.http
      .post('/api/v1/auth/login')
      .set('traceparent', `00-${traceId}-${callerSpan}-01`)
      .send({ code });
    expect(res.status).toBe(200);

    const trace = await until(async () => {
      const t = traceOf(exporter, traceId, callerSpan);
      return t.named('POST ').length === 1 ? t : undefined;
    }, 3000);
    const [server] = trace.named('POST ');
    expect(server.name).toBe('POST /api/v1/auth/login');
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(parentIdOf(server)).toBe(callerSpan);
    expect(server.attributes['http.response.status_code']).toBe(200);
    expect(trace.orphans).toEqual([]);
    expect(trace.named('db ').length).toBeGreaterThan(0);
    expect(trace.named('redis ').length).toBeGreaterThan(0);
    // Statements only: the login's parameters (openid, session key) never reach a span.
    const attributes = JSON.stringify(trace.spans.map((s) => s.attributes));
    expect(attributes).not.toContain(res.body.data.accessToken);

    const [wechat] = trace.named('wechat code2session');
    expect(wechat.kind).toBe(SpanKind.CLIENT);
    const sent = stack.wx.traceparents.filter((t) => t.api === 'code2session');
    expect(sent).toHaveLength(1);
    expect(sent[0].traceparent).toBe(`00-${traceId}-${wechat.spanContext().spanId}-01`);
  });

  it('the payment-timeout job of a placed order joins the trace of the request that placed it', async () => {
    const admin = await loginAs(stack.app, stack.wx, { admin: true });
    const user = await loginAs(stack.app, stack.wx);
    const product = await stack.app.http
      .post('/api/v1/admin/products')
      .set('Authorization', `Bearer ${admin.accessToken}`)
      .send({ name: 'Pu-erh', priceCents: 500, stock: 3 });
    expect(product.status).toBe(201);

    const traceId = hex(16);
    const callerSpan = hex(8);
    const placed = await stack.app.http
      .post('/api/v1/orders')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .set('Idempotency-Key', `k-${hex(8)}`)
      .set('traceparent', `00-${traceId}-${callerSpan}-01`)
      .send({ items: [{ productId: product.body.data.id, quantity: 1 }] });
    expect(placed.status).toBe(201);

    const [row] = await stack.db.dataSource.query(
      "SELECT traceparent FROM outbox WHERE type = 'order.placed' AND aggregate_id = ?",
      [String(placed.body.data.id)],
    );
    const server = traceOf(exporter, traceId, callerSpan).named('POST /api/v1/orders')[0];
    expect(row.traceparent).toBe(`00-${traceId}-${server.spanContext().spanId}-01`);

    // ORDER_PAYMENT_TIMEOUT_S=1: the delayed BullMQ job cancels the order a second later.
    const trace = await until(async () => {
      const t = traceOf(exporter, traceId, callerSpan);
      return t.named('job orders.payment-timeout').length > 0 ? t : undefined;
    }, 6000);
    const [job] = trace.named('job orders.payment-timeout');
    expect(job.kind).toBe(SpanKind.CONSUMER);
    expect(parentIdOf(job)).toBe(server.spanContext().spanId);
    expect(job.attributes['messaging.message.id']).toMatch(/^e\d+$/);
    // The job's own statements (its processed-event record, the cancel) are in the trace too.
    const jobSql = trace
      .named('db ')
      .filter(
        (s) => s.startTime[0] * 1e9 + s.startTime[1] >= job.startTime[0] * 1e9 + job.startTime[1],
      );
    expect(
      jobSql.some((s) => String(s.attributes['db.query.text']).includes('processed_events')),
    ).toBe(true);
    expect(trace.orphans).toEqual([]);
    const order = await stack.app.http
      .get(`/api/v1/orders/${placed.body.data.id}`)
      .set('Authorization', `Bearer ${user.accessToken}`);
    expect(order.body.data.status).toBe('cancelled');
  });

  it('a request without traceparent starts its own trace; a not-sampled caller is followed; probes are not traced', async () => {
    exporter.reset();
    expect((await stack.app.http.get('/api/v1/products')).status).toBe(200);
    const [own] = await until(async () => {
      const spans = exporter.getFinishedSpans().filter((s) => s.name === 'GET /api/v1/products');
      return spans.length > 0 ? spans : undefined;
    }, 2000);
    expect(own.parentSpanContext).toBeUndefined();

    exporter.reset();
    const traceId = hex(16);
    await stack.app.http.get('/api/v1/products').set('traceparent', `00-${traceId}-${hex(8)}-00`);
    expect((await stack.app.http.get('/health/ready')).status).toBe(200);
    expect((await stack.app.http.get('/metrics')).status).toBe(200);
    expect((await stack.app.http.get('/api/v1/products/999999')).status).toBe(404);
    await until(
      async () => exporter.getFinishedSpans().some((s) => s.name === 'GET /api/v1/products/:id'),
      2000,
    );
    const names = exporter.getFinishedSpans().map((s) => s.name);
    expect(names.filter((n) => n.startsWith('GET /health') || n === 'GET /metrics')).toEqual([]);
    expect(exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId)).toEqual(
      [],
    );
  });

  it('background polling makes no trace: every SQL and Redis span has a parent (the relay and sweepers make none)', async () => {
    exporter.reset();
    // OUTBOX_POLL_MS is 100 ms: a few passes of the relay, each a query and a Redis script.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const clientSpans = exporter
      .getFinishedSpans()
      .filter((s) => s.name.startsWith('db ') || s.name.startsWith('redis '));
    expect(clientSpans.filter((s) => s.parentSpanContext === undefined)).toEqual([]);
  });
});

describe('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT): nothing traced, nothing propagated', () => {
  const stack = useStack({ env: { LOG_LEVEL: 'warn' } });

  it('sends no traceparent to WeChat and stores none with outbox events, even when the caller sent one', async () => {
    stack.wx.traceparents.length = 0;
    const { code } = stack.wx.issueCode();
    const res = await stack.app.http
      .post('/api/v1/auth/login')
      .set('traceparent', `00-${hex(16)}-${hex(8)}-01`)
      .send({ code });
    expect(res.status).toBe(200);
    expect(stack.wx.traceparents.map((t) => t.traceparent)).toEqual([undefined]);
    // The new user's user.registered event.
    const rows = await stack.db.dataSource.query('SELECT traceparent FROM outbox');
    expect(rows).toEqual([{ traceparent: null }]);
  });
});

describe('OTLP export to OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  let collector: Server;
  let db: TestDatabase;
  let wx: FakeWechat;
  let app: TestApp | undefined;
  const bodies: { path: string; type: string | undefined; body: string }[] = [];
  const redisPrefix = testRedisPrefix();

  beforeAll(async () => {
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push({
          path: req.url ?? '',
          type: req.headers['content-type'],
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    db = await createTestDatabase();
    wx = await startFakeWechat();
  });
  afterAll(async () => {
    await app?.close();
    await wx?.close();
    await db?.drop();
    await dropRedisKeys(redisPrefix);
    await new Promise((resolve) => collector.close(resolve));
  });

  it('posts the spans of a request as OTLP/HTTP JSON to <endpoint>/v1/traces, flushed at close', async () => {
    const { port } = collector.address() as AddressInfo;
    app = await startTestApp({
      ...baseEnv(db.url, redisPrefix),
      WECHAT_API_BASE_URL: wx.url,
      LOG_LEVEL: 'warn',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}/`,
      OTEL_SERVICE_NAME: 'traced-test',
    });
    const traceId = hex(16);
    await app.http.get('/api/v1/users/me').set('traceparent', `00-${traceId}-${hex(8)}-01`);
    await app.close();
    app = undefined;
    const exported = bodies.filter((b) => b.path === '/v1/traces');
    expect(exported.length).toBeGreaterThan(0);
    expect(exported[0].type).toContain('application/json');
    const all = exported.map((b) => b.body).join('\n');
    expect(all).toContain(traceId);
    expect(all).toContain('GET /api/v1/users/me');
    expect(all).toContain('traced-test');
  });
});
