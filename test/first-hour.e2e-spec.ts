import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { freePort } from '../scripts/cluster.mjs';

// The README's promises about `npm start`, checked on the built server as a
// newcomer runs it: the embedded mode, the sandbox WeChat and WeChat Pay.
const root = new URL('..', import.meta.url).pathname;
// Built by `npm test`'s pretest (nest build), as `npm start` builds it.
const main = join(root, 'dist/src/main.js');

vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

interface Server {
  url: string;
  stdout: () => string;
  stderr: () => string;
  stop: () => Promise<void>;
}

const children = new Set<ChildProcess>();

async function startServer(env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [main], {
    cwd: root,
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', ...env },
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (stdout.includes('listening on')) {
        clearInterval(timer);
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`server exited: ${stderr}`));
      }
    }, 100);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stdout: () => stdout,
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      children.delete(child);
    },
  };
}

/** The fenced block between the README's tour markers, exactly as a reader copies it. */
function readmeTour(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /<!-- tour:begin -->\n```bash\n([\s\S]*?)```\n<!-- tour:end -->/.exec(readme);
  if (!block) throw new Error('README.md has no tour block');
  return block[1];
}

describe("the README's first screen", () => {
  // About what a terminal shows without scrolling.
  const firstScreen = readFileSync(join(root, 'README.md'), 'utf8')
    .split('\n')
    .slice(0, 30)
    .join('\n');

  it('names the commands to run and to test, and what the tests need', () => {
    expect(firstScreen).toContain('npm ci && npm start');
    expect(firstScreen).toMatch(/^npm test\b/m);
    for (const need of [
      'MariaDB',
      'Redis',
      '127.0.0.1',
      '.ci/run',
      '.ci/use-node.sh',
      'Node.js 22',
    ]) {
      expect(firstScreen, need).toContain(need);
    }
  });

  it('points at scripts that exist: what .ci/run does is what it says', () => {
    const ci = readFileSync(join(root, '.ci/run'), 'utf8');
    expect(ci).toContain('. .ci/use-node.sh');
    expect(ci).toMatch(/redis-server --daemonize yes --bind 127\.0\.0\.1/);
    expect(ci).toContain('/usr/sbin/mariadbd');
    expect(ci.trimEnd().split('\n').at(-1)).toBe('npm test');
  });
});

describe('the first hour: npm start in the embedded mode (built server)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mp-first-hour-'));
  const dbPath = join(dir, 'embedded.sqlite');
  const secretFile = join(dir, 'jwt-secret');
  const env = {
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    EMBEDDED_DB_PATH: dbPath,
    SHUTDOWN_DRAIN_MS: '0',
  };
  let server: Server;

  beforeAll(async () => {
    server = await startServer(env);
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the backends line first, before Nest says anything', () => {
    const [first, second] = server.stdout().split('\n');
    expect(first).toBe(
      `backends: database=embedded SQLite at ${dbPath}; redis=in-process (single replica only); ` +
        `wechat=sandbox (any code logs in); wechat-pay=sandbox; jwt-secret=development file ${secretFile}`,
    );
    expect(second).toMatch(/^\{/);
  });

  it('makes the development JWT secret once, mode 0600, and never prints it', () => {
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    const secret = readFileSync(secretFile, 'utf8').trim();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(server.stdout() + server.stderr()).not.toContain(secret);
  });

  it("runs the README's curl tour: login, profile, products, order, pay, admin, refund", () => {
    const run = spawnSync('bash', ['-c', `set -eu -o pipefail\n${readmeTour()}`], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, API: `${server.url}/api/v1`, ...env },
      encoding: 'utf8',
      timeout: 150_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const answers = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(answers.map((a) => a.code)).toEqual([0, 0, 0]);
    expect(answers[1].data).toMatchObject({ nickname: 'Tour', role: 'user' });
    expect(answers[2].data.package).toMatch(/^prepay_id=sandbox_/);
    expect(lines.filter((l) => !l.startsWith('{'))).toEqual([
      'paid',
      expect.stringMatching(/^admin: user \d+ \(openid sandbox_[0-9a-f]{24}\) is now admin/),
      'refunding',
      'refunded',
    ]);
  });

  it('keeps the secret across a restart: a token issued before still verifies', async () => {
    const login = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: 'restart-check' }),
    });
    const token = ((await login.json()) as { data: { accessToken: string } }).data.accessToken;
    const secret = readFileSync(secretFile, 'utf8');
    await server.stop();

    server = await startServer(env);
    expect(readFileSync(secretFile, 'utf8')).toBe(secret);
    const me = (t: string) =>
      fetch(`${server.url}/api/v1/users/me`, { headers: { authorization: `Bearer ${t}` } });
    // The signature verifies; only the session (in process without REDIS_URL) is gone.
    const old = await me(token);
    expect(old.status).toBe(401);
    expect(((await old.json()) as { code: number }).code).toBe(40102);
    // A token under any other secret is refused as invalid.
    const claims = jwt.decode(token) as { sub: string; sid: string; role: string };
    const forged = jwt.sign({ sid: claims.sid, role: claims.role }, 'x'.repeat(48), {
      subject: claims.sub,
      expiresIn: 600,
    });
    const refused = await me(forged);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { code: number }).code).toBe(40100);
  });
});

describe('boot refuses the placeholder JWT secret of .env.example', () => {
  it('exits 1 with one line naming the variable, and prints nothing else', () => {
    const placeholder = /^JWT_SECRET=(.*)$/m.exec(
      readFileSync(join(root, '.env.example'), 'utf8'),
    )?.[1];
    const run = spawnSync(process.execPath, [main], {
      env: { PATH: process.env.PATH, NODE_ENV: 'development', JWT_SECRET: placeholder },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'Invalid configuration: JWT_SECRET is the placeholder of .env.example: set a random one (openssl rand -base64 48)\n',
    );
  });
});
