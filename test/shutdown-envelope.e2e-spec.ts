import { connect, type AddressInfo } from 'node:net';
import { Controller, Get, Module, Query } from '@nestjs/common';
import { ShutdownState } from '../src/infra/lifecycle/index.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, dropRedisKeys, uniqueSuffix } from './helpers/env.js';
import { until } from './helpers/until.js';

@Controller('probe')
class SlowController {
  @Get('slow')
  async slow() {
    await new Promise((r) => setTimeout(r, 400));
    return { slow: true };
  }
}

/** Says whether the drain had begun when the request started and when its answer was made. */
@Controller('probe')
class TimedController {
  constructor(private readonly state: ShutdownState) {}

  @Get('timed')
  async timed(@Query('ms') ms: string) {
    const atStart = this.state.isDraining;
    await new Promise((r) => setTimeout(r, Number(ms)));
    return { atStart, atEnd: this.state.isDraining };
  }
}

@Module({ controllers: [SlowController, TimedController] })
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

  it('under load, every answer made after the drain began says Connection: close and ends its connection, in-flight ones included', async () => {
    const { t, port } = await listening();
    const state = t.app.get(ShutdownState);
    interface Answered {
      atStart: boolean;
      atEnd: boolean;
      close: boolean;
    }
    const answers: Answered[] = [];
    const violations: string[] = [];
    let sending = true;

    /** One keep-alive client: a request of 20–320 ms after another until told to close. */
    const client = (n: number) =>
      new Promise<void>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        let buffered = '';
        let closed = false;
        const send = () =>
          socket.write(
            `GET /api/v1/probe/timed?ms=${20 + ((n * 37 + answers.length * 11) % 300)} HTTP/1.1\r\nHost: x\r\n\r\n`,
          );
        socket.on('data', (c: Buffer) => {
          buffered += c.toString();
          for (;;) {
            const headEnd = buffered.indexOf('\r\n\r\n');
            if (headEnd < 0) return;
            const head = buffered.slice(0, headEnd).toLowerCase();
            const length = Number(/content-length: (\d+)/.exec(head)?.[1]);
            if (buffered.length < headEnd + 4 + length) return;
            const body = JSON.parse(buffered.slice(headEnd + 4, headEnd + 4 + length)) as {
              data: { atStart: boolean; atEnd: boolean };
            };
            buffered = buffered.slice(headEnd + 4 + length);
            if (closed) violations.push(`connection ${n}: an answer after Connection: close`);
            closed = /\r\nconnection: close\r\n/.test(`${head}\r\n`);
            answers.push({ ...body.data, close: closed });
            if (!closed && sending) send();
          }
        });
        socket.on('close', () => {
          if (!closed && sending) violations.push(`connection ${n}: closed without saying so`);
          resolve();
        });
        socket.on('error', reject);
        send();
      });

    const clients = Array.from({ length: 150 }, (_, n) => client(n));
    // The drain begins once the load runs (every client answered about twice),
    // not after a fixed time that a loaded machine may spend starting clients.
    await until(async () => (answers.length >= 300 ? true : undefined), 15_000);
    state.beginDrain();
    await new Promise((r) => setTimeout(r, 800));
    sending = false;
    await Promise.all(clients);

    expect(violations).toEqual([]);
    // The load did what it is for: answers before the drain, and many in flight across it.
    expect(answers.filter((a) => !a.atEnd && !a.close).length).toBeGreaterThan(100);
    const inFlight = answers.filter((a) => !a.atStart && a.atEnd);
    // Every client is running when the drain begins, most with a request in flight.
    expect(inFlight.length).toBeGreaterThan(50);
    expect(inFlight.filter((a) => !a.close)).toEqual([]);
    expect(answers.filter((a) => a.atEnd && !a.close)).toEqual([]);
  });

  it('the answer in flight when close begins says Connection: close, and the connection ends after it', async () => {
    const { t, port } = await listening();
    // The connection is busy when close begins (so it is not closed as idle);
    // a second request is pipelined on it after that.
    const conn = keepAlive(port);
    conn.write('GET /api/v1/probe/slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100));
    const closed = t.app.close();
    await new Promise((r) => setTimeout(r, 100));
    conn.write('GET /api/v1/products HTTP/1.1\r\nHost: x\r\nX-Request-Id: late-1\r\n\r\n');
    const raw = await conn.answers();
    await closed;
    const answers = raw.split(/(?=HTTP\/1\.1 )/);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 200/);
    expect(answers[0].toLowerCase()).toContain('connection: close');
  });

  it('a request reaching the app after close began: 503/50300 in the envelope with a request id', async () => {
    const { t, port } = await listening();
    const conn = keepAlive(port);
    // What Fastify's preClose hook does; the listener itself stays open here.
    t.app.get(ShutdownState).beginClose();
    conn.write('GET /api/v1/products HTTP/1.1\r\nHost: x\r\nX-Request-Id: late-1\r\n\r\n');
    const raw = await conn.answers();
    expect(raw).toMatch(/^HTTP\/1\.1 503/);
    expect(raw.toLowerCase()).toContain('connection: close');
    expect(raw.toLowerCase()).toContain('x-request-id: late-1');
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    expect(body).toEqual({
      code: 50300,
      message: 'shutting down',
      data: null,
      requestId: 'late-1',
    });
  });
});
