import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, testRedisPrefix } from './helpers/env.js';

const fixture = new URL('./fixtures/slow-server.mjs', import.meta.url).pathname;
const built = new URL('../dist/src/app.factory.js', import.meta.url).pathname;

interface Answer {
  status: number;
  body: string;
}

function fetchOnce(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('graceful shutdown of a real process', () => {
  let db: TestDatabase;
  let child: ChildProcess;
  let output = '';

  beforeAll(async () => {
    if (!existsSync(built)) throw new Error('run `npm run build` first (npm test does it)');
    db = await createTestDatabase();
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await db?.drop();
  });

  it('turns readiness 503 at once, finishes the in-flight request, refuses new ones, exits 0', async () => {
    child = spawn(process.execPath, [fixture], {
      env: {
        ...process.env,
        ...baseEnv(db.url, testRedisPrefix()),
        SHUTDOWN_DRAIN_MS: '400',
        SHUTDOWN_TIMEOUT_MS: '10000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no READY line:\n${output}`)), 20_000);
      child.stdout!.on('data', () => {
        const m = /READY (\d+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });

    expect((await fetchOnce(port, '/health/ready')).status).toBe(200);
    const inFlight = fetchOnce(port, '/slow');
    await new Promise((r) => setTimeout(r, 150));
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));

    const ready = await fetchOnce(port, '/health/ready');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ code: 50300, message: 'shutting down' });

    // Past the drain delay the listener is closed while /slow is still running.
    await new Promise((r) => setTimeout(r, 600));
    await expect(fetchOnce(port, '/health/live')).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    const slow = await inFlight;
    expect(slow.status).toBe(200);
    expect(JSON.parse(slow.body)).toEqual({ done: true });

    expect(await exited).toBe(0);
    expect(output).toContain('shutdown: complete');
  });
});
