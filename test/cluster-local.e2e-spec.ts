import { spawn, type ChildProcess } from 'node:child_process';
import { dropDatabase, freePort } from '../scripts/cluster.mjs';
import { TEST_MYSQL_URL, TEST_REDIS_URL, testRedisPrefix, uniqueSuffix } from './helpers/env.js';

// `npm run cluster:local -- --seed` as a newcomer runs it, with no WeChat
// credentials: one replica behind real nginx on the local MariaDB and Redis.
const script = new URL('../scripts/cluster-local.mjs', import.meta.url).pathname;

vi.setConfig({ testTimeout: 60_000, hookTimeout: 240_000 });

describe('npm run cluster:local -- --seed, without WeChat credentials', () => {
  const database = `mp_cl_${uniqueSuffix()}`;
  let child: ChildProcess;
  let output = '';
  let url: string;

  beforeAll(async () => {
    child = spawn(process.execPath, [script, '--seed'], {
      env: {
        PATH: process.env.PATH,
        CLUSTER_REPLICAS: '1',
        CLUSTER_WORKERS: '0',
        CLUSTER_PORT: String(await freePort()),
        CLUSTER_MYSQL_URL: TEST_MYSQL_URL,
        CLUSTER_DATABASE: database,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: testRedisPrefix(),
        SHUTDOWN_DRAIN_MS: '0',
        LOG_LEVEL: 'warn',
      },
      detached: true,
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 220_000;
    while (!/behind nginx: (http:\S+)/.test(output)) {
      if (child.exitCode !== null) throw new Error(`cluster:local exited:\n${output}`);
      if (Date.now() > deadline) throw new Error(`cluster:local did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    url = /behind nginx: (http:\S+)/.exec(output)?.[1] as string;
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => process.kill(-(child.pid as number), 'SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    await dropDatabase(TEST_MYSQL_URL, database);
  });

  const login = async (code: string) => {
    const res = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    });
    return { status: res.status, body: (await res.json()) as { data: { user: { id: number } } } };
  };

  it('logs any code in through the local fake WeChat, the same code as the same user', async () => {
    expect(output).toMatch(/logins go to a local fake WeChat on http:\/\/127\.0\.0\.1:\d+/);
    const alice = await login('alice');
    expect(alice.status).toBe(200);
    expect((await login('alice')).body.data.user.id).toBe(alice.body.data.user.id);
    expect((await login('bob')).body.data.user.id).not.toBe(alice.body.data.user.id);
  });

  it('seeds the demo products on request', async () => {
    const res = await fetch(`${url}/api/v1/products?limit=100`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { items: unknown[] } };
    expect(body.data.items).toHaveLength(24);
    expect(output).toContain('seed: 24 demo product(s) added');
  });

  it('prints how to make an admin on its database, without a password', () => {
    expect(output).toContain(
      `make an admin: DATABASE_URL=${TEST_MYSQL_URL.replace(/\/+$/, '')}/${database} npm run admin -- grant <userId|openid>`,
    );
  });
});
