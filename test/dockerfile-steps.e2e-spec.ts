import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingImports, runDockerfile } from '../scripts/dockerfile-steps.mjs';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, testRedisPrefix } from './helpers/env.js';
import { freePort } from '../scripts/cluster.mjs';

/**
 * docker/Dockerfile without a Docker engine: scripts/dockerfile-steps.mjs
 * carries out its COPY/RUN/ENV steps in a temporary folder (the context
 * filtered by its .dockerignore; node_modules hard-linked instead of `npm ci`,
 * the checkout's fresh dist/ instead of a second build, see the script), then
 * the final stage's CMD starts with the image's ENV and answers the image's
 * own HEALTHCHECK, with production dependencies only.
 */
describe('docker/Dockerfile, step by step', () => {
  let out: string;
  let image: ReturnType<typeof runDockerfile>;
  let db: TestDatabase;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'mp-image-'));
    image = runDockerfile(out, { reuseNodeModules: true, reuseBuild: true });
    db = await createTestDatabase();
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
    rmSync(out, { recursive: true, force: true });
  });

  it('the runtime stage holds dist/ and production dependencies only', () => {
    expect(existsSync(join(image.workdir, 'dist/src/main.js'))).toBe(true);
    expect(existsSync(join(image.workdir, 'dist/src/cli/await-migrations.js'))).toBe(true);
    expect(existsSync(join(image.workdir, 'node_modules/fastify'))).toBe(true);
    for (const dev of ['vitest', 'oxlint', '@nestjs/cli']) {
      expect(existsSync(join(image.workdir, 'node_modules', dev)), dev).toBe(false);
    }
    // The ignore file keeps specs and everything else out of the context.
    expect(existsSync(join(out, 'build/app/test'))).toBe(false);
    expect(existsSync(join(out, 'build/app/src/config/app-config.spec.ts'))).toBe(false);
  });

  it('`npm run start:prod` runs what the image runs (its CMD, V8 flags included)', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts['start:prod']).toBe(image.cmd.join(' '));
  });

  it('a context without a folder the sources import is caught', () => {
    const build = join(out, 'build/app');
    expect(missingImports(build)).toEqual([]);
    rmSync(join(build, 'migrations'), { recursive: true });
    expect(missingImports(build)).toContain('migrations/index.js');
  });

  it("starts with the image's ENV and CMD, passes its HEALTHCHECK, and stops on SIGTERM", async () => {
    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      ...image.env,
      ...baseEnv(db.url, testRedisPrefix()),
      NODE_ENV: image.env.NODE_ENV,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    };
    const [cmd, ...args] = image.cmd;
    const child = spawn(cmd, args, {
      cwd: image.workdir,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      let healthy = false;
      for (let i = 0; i < 120 && !healthy && child.exitCode === null; i++) {
        const [hc, ...hcArgs] = image.healthcheck;
        healthy = spawnSync(hc, hcArgs, { env, timeout: 5000 }).status === 0;
        if (!healthy) await new Promise((r) => setTimeout(r, 250));
      }
      expect(healthy, stderr).toBe(true);
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
