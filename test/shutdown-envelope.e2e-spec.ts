import { connect, type AddressInfo } from 'node:net';
import { Controller, Get, Module } from '@nestjs/common';
import { ShutdownState } from '../src/infra/lifecycle/index.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, dropRedisKeys, uniqueSuffix } from './helpers/env.js';

@Controller('probe')
class SlowController {
  @Get('slow')
  async slow() {
    await new Promise((r) => setTimeout(r, 400));
    return { slow: true };
  }
}

@Module({ controllers: [SlowController] })
class SlowModule {}

/** A keep-alive connection: write() sends bytes, answers() is everything read until it closes. */
function keepAlive(port: number) {
  const socket = connect(port, '127.0.0.1');
  let raw = '';
  socket.on('data', (c: Buffer) => (raw += c.toString()));
  const closed = new Promise<string>((resolve, reject) => {
    socket.on('close', () => resolve(raw));
    socket.on('error', reject);
    setTimeout(() => socket.destroy(), 5000).unref();
  });
  return { write: (bytes: string) => socket.write(bytes), answers: () => closed };
}

describe('answers while shutting down', () => {
  const prefix = `t${uniqueSuffix()}:`;
  let db: TestDatabase;
  const apps: TestApp[] = [];

  /** A fresh app (shutdown is one-way) listening on a spare port. */
  async function listening(): Promise<{ t: TestApp; port: number }> {
    const t = await startTestApp(baseEnv(db.url, prefix), { imports: [SlowModule] });
    apps.push(t);
    // Through Nest and Fastify (not the raw server), so that close() closes it as in production.
    await t.app.listen(0, '127.0.0.1');
    return { t, port: (t.app.getHttpServer().address() as AddressInfo).port };
  }

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const t of apps) await t.close().catch(() => undefined);
    await db?.drop();
    await dropRedisKeys(prefix);
  });

  it('says Connection: close on every answer of the drain', async () => {
    const { t } = await listening();
    t.app.get(ShutdownState).beginDrain();
    const res = await t.http.get('/health/live');
    expect(res.status).toBe(200);
    expect(res.headers.connection).toBe('close');
  });

  it('a request on a keep-alive connection after close began: 503/50300 in the envelope with a request id', async () => {
    const { t, port } = await listening();
    // The connection is busy when close begins (so it is not closed as idle);
    // the second request is sent on it after that.
    const conn = keepAlive(port);
    conn.write('GET /api/v1/probe/slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100));
    const closed = t.app.close();
    await new Promise((r) => setTimeout(r, 100));
    conn.write('GET /api/v1/products HTTP/1.1\r\nHost: x\r\nX-Request-Id: late-1\r\n\r\n');
    const raw = await conn.answers();
    await closed;
    const [first, second] = raw.split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 200/);
    expect(second).toMatch(/^HTTP\/1\.1 503/);
    expect(second.toLowerCase()).toContain('connection: close');
    expect(second.toLowerCase()).toContain('x-request-id: late-1');
    const body = JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4)) as Record<
      string,
      unknown
    >;
    expect(body).toEqual({
      code: 50300,
      message: 'shutting down',
      data: null,
      requestId: 'late-1',
    });
  });
});
