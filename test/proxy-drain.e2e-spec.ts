import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, testRedisPrefix } from './helpers/env.js';

const fixture = new URL('./fixtures/slow-server.mjs', import.meta.url).pathname;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(port: number, method: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

// How a replica tells nginx it is leaving (see src/infra/lifecycle/proxy-drain.hook.ts).
describe('drain behind a proxy (TRUST_PROXY set)', () => {
  let db: TestDatabase;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await db?.drop();
  });

  it('answers GETs 503/50300 with Connection: close during the drain, serves other methods and health probes', async () => {
    let output = '';
    const proc = spawn(process.execPath, [fixture], {
      env: {
        ...process.env,
        ...baseEnv(db.url, testRedisPrefix()),
        TRUST_PROXY: '127.0.0.1',
        SHUTDOWN_DRAIN_MS: '1500',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no READY line:\n${output}`)), 20_000);
      proc.stdout!.on('data', (c: Buffer) => {
        output += c.toString();
        const m = /READY (\d+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });

    expect((await send(port, 'GET', '/api/v1/products')).status).toBe(200);
    proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));

    const get = await send(port, 'GET', '/api/v1/products');
    expect(get.status).toBe(503);
    expect(get.headers.connection).toBe('close');
    const body = JSON.parse(get.body) as { code: number; requestId: string };
    expect(body).toMatchObject({ code: 50300, message: 'shutting down' });
    expect(body.requestId).toBe(get.headers['x-request-id']);
    expect((await send(port, 'HEAD', '/api/v1/products')).status).toBe(503);

    // A write is never refused here: nginx would not replay it elsewhere.
    const patch = await send(port, 'PATCH', '/api/v1/users/me');
    expect(patch.status).toBe(401);
    expect(patch.headers.connection).toBe('close');
    expect((await send(port, 'GET', '/health/live')).status).toBe(200);
    expect((await send(port, 'GET', '/health/ready')).status).toBe(503);
  });
});
