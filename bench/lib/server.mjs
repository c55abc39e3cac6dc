// Starts the BUILT app (`node <the image's CMD flags> dist/src/main.js`) pinned to CPU 1 and waits
// until it is ready; stop() sends SIGTERM and waits for the exit (which also
// writes a --cpu-prof profile when one was asked for).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parseDockerfile, parseEnv } from '../../scripts/dockerfile-steps.mjs';
import { BENCH_APPID, BENCH_WECHAT_SECRET } from './fake-wechat.mjs';
import { sleep } from './tools.mjs';

/**
 * The app's environment in a bench: production mode, the bench's database,
 * Redis and fake WeChat, no shutdown drain, and the default rate limit on
 * (one counter per request, as in production) but never refusing. `extra`
 * adds or overrides variables.
 */
export function benchAppEnv({ databaseUrl, redisUrl, wechatUrl, jwtSecret, ...extra }) {
  return {
    ...process.env,
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    JWT_SECRET: jwtSecret ?? randomBytes(32).toString('hex'),
    WECHAT_APPID: BENCH_APPID,
    WECHAT_SECRET: BENCH_WECHAT_SECRET,
    WECHAT_API_BASE_URL: wechatUrl,
    SHUTDOWN_DRAIN_MS: '0',
    THROTTLE_DEFAULT_LIMIT: '1000000000',
    ...extra,
  };
}

/**
 * The instructions of the image in the current directory's checkout
 * (bench/ab.mjs moves into each build's), parsed as scripts/dockerfile-steps.mjs
 * parses them to carry out its steps.
 */
const imageInstructions = () => parseDockerfile(readFileSync('docker/Dockerfile', 'utf8'));

/**
 * The NODE_OPTIONS the image runs with (docker/Dockerfile's `ENV NODE_OPTIONS`,
 * the heap limits), so the figures are those of what ships (with its CMD's
 * flags, productionNodeFlags);
 * BENCH_NODE_OPTIONS overrides it for experiments.
 */
export function productionNodeOptions() {
  if (process.env.BENCH_NODE_OPTIONS !== undefined) return process.env.BENCH_NODE_OPTIONS;
  const set = imageInstructions()
    .filter((i) => i.op === 'ENV')
    .map((i) => parseEnv(i.args).NODE_OPTIONS)
    .filter((value) => value !== undefined);
  return set.at(-1) ?? '';
}

/**
 * The node flags of the image's CMD (docker/Dockerfile: those before the
 * script, e.g. --single-threaded-gc); BENCH_NODE_FLAGS (space-separated)
 * overrides them for experiments.
 */
export function productionNodeFlags() {
  if (process.env.BENCH_NODE_FLAGS !== undefined) return process.env.BENCH_NODE_FLAGS.split(' ').filter(Boolean);
  const cmd = imageInstructions()
    .filter((i) => i.op === 'CMD')
    .at(-1);
  return cmd ? JSON.parse(cmd.args).filter((arg) => arg.startsWith('--')) : [];
}

export async function startServer({ env, port, profileDir, name = 'server' }) {
  if (!existsSync('dist/src/main.js')) throw new Error('build first: npx nest build');
  const node = [
    ...productionNodeFlags(),
    ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
    'dist/src/main.js',
  ];
  // taskset execs node in place: the child's pid is the server's.
  const child = spawn('taskset', ['-c', '1', process.execPath, ...node], {
    env: { ...env, NODE_OPTIONS: productionNodeOptions(), PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  let stopping = false;
  const exited = new Promise((r) => child.once('exit', r));
  // A server that dies under load would otherwise show only as wrk's refused connections.
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`${name} exited during the run (code ${code}, signal ${signal}): ${stderr.trim()}`);
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited at boot: ${stderr.trim()}`);
    try {
      if ((await fetch(`${base}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300) throw new Error(`${name} did not become ready`);
    await sleep(100);
  }
  return {
    base,
    pid: child.pid,
    /** Resident set size of the server process, in MB. */
    rssMb() {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
      return kb / 1024;
    },
    async stop() {
      stopping = true;
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** POST /auth/login with `code` (the fake WeChat accepts any); resolves with the answer's data. */
export async function login(base, code) {
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code }),
  });
  const body = await res.json();
  if (body.code !== 0) throw new Error(`login failed: ${JSON.stringify(body)}`);
  return body.data;
}
