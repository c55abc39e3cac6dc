import { useStack } from './helpers/stack.js';

describe('health and metrics', () => {
  const stack = useStack({ wechat: false });

  it('GET /health/live answers 200 in the envelope, outside the /api/v1 prefix', async () => {
    const res = await stack.app.http.get('/health/live');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ code: 0, data: { status: 'ok' } });
    expect((await stack.app.http.get('/api/v1/health/live')).status).toBe(404);
  });

  it('GET /health/ready answers 200 when the primary and Redis answer', async () => {
    const res = await stack.app.http.get('/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.data.details).toMatchObject({
      database: { status: 'up' },
      redis: { status: 'up' },
    });
  });

  it('GET /metrics serves Prometheus text with request counts by route template', async () => {
    await stack.app.http.get('/health/live');
    await stack.app.http.get('/api/v1/does-not-exist/12345');
    const res = await stack.app.http.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(
      /http_requests_total\{method="GET",route="\/health\/live",status="200"\} \d+/,
    );
    expect(res.text).toMatch(
      /http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/health\/live",status="200"\}/,
    );
    // Unknown paths share one label value instead of one series each.
    expect(res.text).not.toContain('12345');
    expect(res.text).toContain('nodejs_eventloop_lag_seconds');
  });
});

describe('readiness when a dependency is down', () => {
  // Nothing listens on port 1: Redis is unreachable from the start.
  const stack = useStack({
    wechat: false,
    env: { REDIS_URL: 'redis://127.0.0.1:1/0', REDIS_COMMAND_TIMEOUT_MS: '200' },
  });

  it('answers 503/50300 naming Redis as down, while liveness stays 200', async () => {
    const res = await stack.app.http.get('/health/ready');
    expect(res.status).toBe(503);
    expect(res.body.code).toBe(50300);
    expect(res.body.data.details.redis.status).toBe('down');
    expect(res.body.data.details.database.status).toBe('up');
    expect((await stack.app.http.get('/health/live')).status).toBe(200);
  });
});

describe('CORS and compression', () => {
  const stack = useStack({ wechat: false, env: { CORS_ORIGINS: 'https://admin.example.com' } });

  it('allows only the configured browser origins', async () => {
    const allowed = await stack.app.http
      .options('/api/v1/anything')
      .set('Origin', 'https://admin.example.com')
      .set('Access-Control-Request-Method', 'POST');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://admin.example.com');
    const other = await stack.app.http
      .options('/api/v1/anything')
      .set('Origin', 'https://evil.example.com')
      .set('Access-Control-Request-Method', 'POST');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses an OPTIONS that is not a preflight in the envelope, with the header it lacks', async () => {
    for (const [headers, field] of [
      [{ 'Access-Control-Request-Method': 'POST' }, 'origin'],
      [{ Origin: 'https://admin.example.com' }, 'access-control-request-method'],
      [{}, 'origin'],
    ] as const) {
      const res = await stack.app.http.options('/api/v1/anything').set(headers);
      expect([res.status, res.headers['content-type']]).toEqual([
        400,
        'application/json; charset=utf-8',
      ]);
      expect([res.body.code, res.body.data.errors[0].field]).toEqual([40000, field]);
      expect(res.headers['x-request-id']).toBeTruthy();
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
    // A real preflight still passes.
    const preflight = await stack.app.http
      .options('/api/v1/users/me')
      .set('Origin', 'https://admin.example.com')
      .set('Access-Control-Request-Method', 'PUT');
    expect(preflight.status).toBe(204);
  });

  it('compresses large responses for clients that accept gzip, and not small ones', async () => {
    const large = await stack.app.http.get('/docs/json').set('Accept-Encoding', 'gzip');
    expect(large.headers['content-encoding']).toBe('gzip');
    expect(large.body.openapi).toMatch(/^3\./);
    const small = await stack.app.http.get('/health/live').set('Accept-Encoding', 'gzip');
    expect(small.headers['content-encoding']).toBeUndefined();
  });
});
