import { connect, type AddressInfo } from 'node:net';
import { sendRaw, type RawAnswer } from './helpers/raw-http.js';
import { useStack } from './helpers/stack.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function expectEnvelope(res: RawAnswer, status: number, code: number): void {
  expect(res.status).toBe(status);
  const body = JSON.parse(res.body) as Record<string, unknown>;
  expect(body).toMatchObject({ code, data: null, requestId: res.headers['x-request-id'] });
  expect(typeof body.message).toBe('string');
  expect(res.headers['x-request-id']).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['x-content-type-options']).toBe('nosniff');
}

describe('answers given before a route runs are in the envelope', () => {
  const stack = useStack({ wechat: false });
  let port: number;

  beforeAll(async () => {
    const server = stack.app.app.getHttpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  const get = (path: string, extra = '') =>
    sendRaw(port, `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}Connection: close\r\n\r\n`);

  it.each(['%FF', '%', '%zz', '%C0%AF'])(
    'GET /products/%s: 400/40000 without echoing the URL',
    async (bad) => {
      const res = await get(`/api/v1/products/${bad}`);
      expectEnvelope(res, 400, 40000);
      expect(res.body).not.toContain(bad);
      expect(res.body).not.toContain('FST_');
    },
  );

  it('a 101-digit id: 414/41400', async () => {
    const res = await get(`/api/v1/products/${'9'.repeat(101)}`);
    expectEnvelope(res, 414, 41400);
    expect(res.body).not.toContain('999999');
  });

  it('keeps an incoming X-Request-Id on a router refusal', async () => {
    const res = await get('/api/v1/products/%FF', 'X-Request-Id: edge-trace-1\r\n');
    expect(res.headers['x-request-id']).toBe('edge-trace-1');
  });

  it.each([
    [
      'Content-Length with Transfer-Encoding',
      'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    [
      'two Content-Lengths',
      'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
    ],
    [
      'a bad chunk',
      'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
    ],
    ['no request line at all', 'HELLO\r\n\r\n'],
  ])('bad framing (%s): 400/40000 with a new request id', async (_label, bytes) => {
    const res = await sendRaw(port, bytes);
    expectEnvelope(res, 400, 40000);
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(res.headers.connection).toBe('close');
  });

  it('headers over 16 KB: 431/43100', async () => {
    const res = await get('/health/live', `X-Big: ${'a'.repeat(17 * 1024)}\r\n`);
    expectEnvelope(res, 431, 43100);
  });

  it('an empty Host: 400/40000 in the envelope', async () => {
    const res = await sendRaw(
      port,
      'GET /health/live HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n',
    );
    expectEnvelope(res, 400, 40000);
  });

  it('no Host on HTTP/1.1: 400/40000 in the envelope', async () => {
    const res = await sendRaw(port, 'GET /health/live HTTP/1.1\r\nConnection: close\r\n\r\n');
    expectEnvelope(res, 400, 40000);
  });

  it('an Expect other than 100-continue: 417 in the envelope', async () => {
    const res = await get('/health/live', 'Expect: teapot\r\n');
    expectEnvelope(res, 417, 40000);
  });

  it('Expect: 100-continue still works', async () => {
    const res = await sendRaw(
      port,
      'POST /api/v1/auth/refresh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n{}',
    );
    expect(res.raw).toMatch(/^HTTP\/1\.1 100 Continue/);
    expect(res.raw).toContain('HTTP/1.1 400');
  });

  it('a wrong method on an existing path: 405/40500 with Allow', async () => {
    const res = await stack.app.http.delete('/api/v1/products/7');
    expect(res.status).toBe(405);
    expect(res.body).toMatchObject({ code: 40500, requestId: res.headers['x-request-id'] });
    expect(res.headers.allow?.split(', ').sort()).toEqual(['GET', 'HEAD']);
    const login = await stack.app.http.get('/api/v1/auth/login');
    expect(login.status).toBe(405);
    expect(login.headers.allow).toBe('POST');
  });

  it('without CORS_ORIGINS, OPTIONS is a method no path has: 405/40500 with Allow, no CORS headers', async () => {
    const res = await stack.app.http
      .options('/api/v1/products/7')
      .set('Origin', 'https://admin.example.com')
      .set('Access-Control-Request-Method', 'GET');
    expect(res.status).toBe(405);
    expect(res.body).toMatchObject({ code: 40500, requestId: res.headers['x-request-id'] });
    expect(res.headers.allow?.split(', ').sort()).toEqual(['GET', 'HEAD']);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('an unknown path stays 404/40400', async () => {
    const res = await stack.app.http.delete('/api/v1/no-such-thing');
    expect(res.status).toBe(404);
    expect(res.body.code).toBe(40400);
  });

  it('OPTIONS * (the server-wide form): 404/40400 in the envelope with its X-Request-Id', async () => {
    const res = await sendRaw(
      port,
      'OPTIONS * HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: star-1\r\nConnection: close\r\n\r\n',
    );
    expectEnvelope(res, 404, 40400);
    expect(res.headers['x-request-id']).toBe('star-1');
    // Fastify's last-resort 404 logs its whole route table as a warning.
    expect(stack.app.logs.filter((l) => l.requestId === 'star-1' && Number(l.level) >= 40)).toEqual(
      [],
    );
  });

  it('a client aborting mid-body is logged at info, not as an unexpected error', async () => {
    const socket = connect(port, '127.0.0.1');
    socket.write(
      'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nX-Request-Id: abort-me-1\r\n\r\n{"code":',
    );
    await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const lines = stack.app.logs.filter((l) => l.requestId === 'abort-me-1');
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, message: 'client aborted the request' }),
    ]);
  });
});

describe('connection timeouts come from config', () => {
  const stack = useStack({
    wechat: false,
    env: { HTTP_REQUEST_TIMEOUT_MS: '300', HTTP_KEEP_ALIVE_TIMEOUT_MS: '300' },
  });
  let port: number;

  beforeAll(async () => {
    const server = stack.app.app.getHttpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  it('a client that never finishes its headers (slowloris) gets 408 in the envelope and is closed', async () => {
    const res = await sendRaw(port, 'GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: a');
    expect(res.status).toBe(408);
    expect(JSON.parse(res.body)).toMatchObject({ code: 40000, message: 'request timeout' });
    expect(res.headers.connection).toBe('close');
  });

  it(
    'an idle keep-alive connection is closed after HTTP_KEEP_ALIVE_TIMEOUT_MS',
    { timeout: 3000 },
    async () => {
      const socket = connect(port, '127.0.0.1');
      socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
      let answered = '';
      socket.on('data', (c: Buffer) => (answered += c.toString()));
      // With Node's default (5 s) or Fastify's (72 s) this outlives the test's timeout.
      await new Promise<void>((resolve) => socket.on('close', () => resolve()));
      expect(answered).toMatch(/^HTTP\/1\.1 200/);
    },
  );
});
