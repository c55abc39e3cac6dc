import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { IsInt, IsString, Length, Max, Min } from 'class-validator';
import { QueryFailedError } from 'typeorm';
import { AppError } from '../src/common/errors/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, testRedisPrefix } from './helpers/env.js';
import { startTestApp, type TestApp } from './helpers/app.js';

class ProbeDto {
  @IsString()
  @Length(1, 8)
  name: string;

  @IsInt()
  @Min(1)
  @Max(99)
  quantity: number;
}

// Probe routes mounted beside the real modules: they exercise the global
// pipe, interceptor and filter the way domain controllers will.
@Controller('probe')
class ProbeController {
  @Post('echo')
  echo(@Body() body: ProbeDto) {
    return body;
  }

  @Get('sql-failure')
  sqlFailure() {
    throw new QueryFailedError(
      'SELECT secret_column FROM users WHERE id = ?',
      [42],
      new Error('ER_BAD_FIELD'),
    );
  }

  @Get('crash')
  crash() {
    throw new Error('kaboom');
  }

  @Get('conflict')
  conflict() {
    throw new AppError('CONFLICT', 'insufficient stock');
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

describe('HTTP envelope, errors and request ids', () => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp(
      { ...baseEnv(db.url, testRedisPrefix()), BODY_LIMIT_BYTES: '1024' },
      { imports: [ProbeModule] },
    );
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('wraps a success in { code: 0, message, data, requestId } matching X-Request-Id', async () => {
    const res = await t.http.post('/api/v1/probe/echo').send({ name: 'tea', quantity: 2 });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      code: 0,
      message: 'ok',
      data: { name: 'tea', quantity: 2 },
      requestId: res.headers['x-request-id'],
    });
  });

  it('reuses a well-formed incoming X-Request-Id', async () => {
    const res = await t.http.get('/health/live').set('X-Request-Id', 'client-1.abc_DEF');
    expect(res.headers['x-request-id']).toBe('client-1.abc_DEF');
    expect(res.body.requestId).toBe('client-1.abc_DEF');
  });

  it.each([
    ['bad characters', 'abc def<script>'],
    ['longer than 128 chars', 'a'.repeat(129)],
  ])('replaces an incoming X-Request-Id with %s', async (_label, incoming) => {
    const res = await t.http.get('/health/live').set('X-Request-Id', incoming);
    expect(res.headers['x-request-id']).not.toBe(incoming);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.requestId).toBe(res.headers['x-request-id']);
  });

  it('answers validation failures with 400/40000 and data.errors per field', async () => {
    const res = await t.http.post('/api/v1/probe/echo').send({ name: '', quantity: 100 });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(40000);
    expect(res.body.requestId).toBe(res.headers['x-request-id']);
    const fields = res.body.data.errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(['name', 'quantity']);
    for (const e of res.body.data.errors) expect(typeof e.message).toBe('string');
  });

  it('rejects unknown body properties with 400/40000 naming the field', async () => {
    const res = await t.http
      .post('/api/v1/probe/echo')
      .send({ name: 'a', quantity: 1, admin: true });
    expect(res.status).toBe(400);
    expect(res.body.data.errors).toEqual([expect.objectContaining({ field: 'admin' })]);
  });

  it('answers malformed JSON with 400/40000 in the envelope', async () => {
    const res = await t.http
      .post('/api/v1/probe/echo')
      .set('Content-Type', 'application/json')
      .send('{"name": "tea",');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 40000, data: null });
    expect(res.body.requestId).toBe(res.headers['x-request-id']);
  });

  it.each([
    ['a form', 'application/x-www-form-urlencoded', 'code=x'],
    ['plain text', 'text/plain', 'code=x'],
    [
      'multipart',
      'multipart/form-data; boundary=b',
      '--b\r\nContent-Disposition: form-data; name="code"\r\n\r\nx\r\n--b--\r\n',
    ],
    ['bytes', 'application/octet-stream', '{"code":"x"}'],
  ])(
    'refuses %s body on POST /auth/login with 415/40000 in the envelope',
    async (_label, type, body) => {
      const res = await t.http.post('/api/v1/auth/login').set('Content-Type', type).send(body);
      expect(res.status).toBe(415);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({
        code: 40000,
        message: 'request body is not JSON',
        data: null,
        requestId: res.headers['x-request-id'],
      });
    },
  );

  it.each(['application/json', 'application/json; charset=utf-8'])(
    'still parses a %s body',
    async (type) => {
      const res = await t.http
        .post('/api/v1/probe/echo')
        .set('Content-Type', type)
        .send('{"name":"tea","quantity":2}');
      expect(res.status).toBe(201);
      expect(res.body.data).toEqual({ name: 'tea', quantity: 2 });
    },
  );

  it('answers a body over the limit with 413/41300 in the envelope', async () => {
    const res = await t.http
      .post('/api/v1/probe/echo')
      .send({ name: 'x'.repeat(2000), quantity: 1 });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 41300, message: 'body too large' });
  });

  it('answers an unknown route with 404/40400 in the envelope', async () => {
    const res = await t.http.get('/api/v1/no-such-route');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 40400, data: null });
    expect(res.body.requestId).toBe(res.headers['x-request-id']);
  });

  it('maps a domain error to its row of the table', async () => {
    const res = await t.http.get('/api/v1/probe/conflict');
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 40900, message: 'insufficient stock' });
  });

  it('answers an unexpected error with 500/50000 and no stack or message detail', async () => {
    const res = await t.http.get('/api/v1/probe/crash');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      code: 50000,
      message: 'unexpected error',
      data: null,
      requestId: res.headers['x-request-id'],
    });
    expect(JSON.stringify(res.body)).not.toContain('kaboom');
  });

  it('never leaks SQL from a database error, in the body or the logs', async () => {
    const res = await t.http.get('/api/v1/probe/sql-failure');
    expect(res.status).toBe(500);
    expect(res.body.code).toBe(50000);
    expect(res.text).not.toMatch(/SELECT|secret_column/);
    const line = t.logs.find((l) => l.requestId === res.headers['x-request-id']);
    expect(line).toMatchObject({
      message: 'unexpected error',
      error: { type: 'QueryFailedError' },
    });
    expect(t.rawLogs()).not.toMatch(/SELECT|secret_column|at .*\.ts:\d+/);
  });

  it('logs unexpected errors with the request id of that request', async () => {
    const res = await t.http.get('/api/v1/probe/crash').set('X-Request-Id', 'trace-me-123');
    expect(res.status).toBe(500);
    const line = t.logs.find((l) => l.requestId === 'trace-me-123');
    expect(line).toMatchObject({ level: 50, message: 'unexpected error' });
    expect(JSON.stringify(line)).not.toContain('stack');
  });

  it("sets an API's security headers, and none of those meant for documents", async () => {
    const res = await t.http.get('/health/live');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['content-security-policy']).toBe(
      "default-src 'none';frame-ancestors 'none'",
    );
    expect(res.headers['cross-origin-opener-policy']).toBeUndefined();
    expect(res.headers['x-xss-protection']).toBeUndefined();
  });

  it('serves the OpenAPI document at /docs/json and the UI at /docs', async () => {
    const json = await t.http.get('/docs/json');
    expect(json.status).toBe(200);
    expect(json.body.openapi).toMatch(/^3\./);
    expect(Object.keys(json.body.paths)).toContain('/health/ready');
    const ui = await t.http.get('/docs');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
  });
});
