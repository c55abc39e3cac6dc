import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { migrations } from '../migrations/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, testRedisPrefix } from './helpers/env.js';

/**
 * dist/src/cli/await-migrations.js, the Kubernetes initContainer that holds a
 * new pod back until the migration Job has applied this build's migrations.
 */
const cli = new URL('../dist/src/cli/await-migrations.js', import.meta.url).pathname;

interface Run {
  output(): string;
  exited: Promise<number | null>;
  running(): boolean;
}

function start(env: Record<string, string>, args: string[]): Run {
  const child = spawn(process.execPath, [cli, ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  let done = false;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      done = true;
      resolve(code);
    }),
  );
  onTestFinished(() => {
    if (!done) child.kill('SIGKILL');
  });
  return { output: () => out, exited, running: () => !done };
}

async function waitFor(predicate: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('await-migrations (the initContainer)', () => {
  let db: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    env = baseEnv(db.url, testRedisPrefix());
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('times out with exit 1 on an unmigrated schema, and writes nothing to it', async () => {
    const run = start(env, ['--timeout-s=1', '--interval-s=0.2']);
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain(`waiting for ${migrations.length} pending`);
    expect(run.output()).toContain('timed out waiting for the migration job');
    // It only reads: creating the migrations table would race with the Job.
    expect(await db.dataSource.query("SHOW TABLES LIKE 'migrations'")).toEqual([]);
  });

  it('waits while migrations are pending and exits 0 as soon as the Job applied them', async () => {
    const run = start(env, ['--timeout-s=60', '--interval-s=0.2']);
    await waitFor(() => run.output().includes('pending'), 20_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(run.running()).toBe(true);
    await db.dataSource.runMigrations();
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('migrations: schema up to date');
  });

  it('keeps waiting for a database that does not answer yet, and never prints its password', async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const run = start(
      { ...env, DATABASE_URL: `mysql://app:hunter2-secret@127.0.0.1:${closed}/app` },
      ['--timeout-s=1', '--interval-s=0.2'],
    );
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('database not reachable yet (ECONNREFUSED)');
    expect(run.output()).not.toContain('hunter2');
  });
});
