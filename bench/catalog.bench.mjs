// Benchmark of the hot path GET /api/v1/products/:id (cached) on the BUILT app.
// Prints figures; judges nothing. Run `npx nest build` first, then:
//   node bench/catalog.bench.mjs [seconds]        (default 5)
// Needs MariaDB (root, no password) and Redis on 127.0.0.1, wrk and taskset.
// The server is pinned to CPU 1 and wrk to CPU 0, like /work/shared/bench/anchors/run.sh,
// so run that script in the same session and compare req/s.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createConnection } from 'mysql2/promise';

const seconds = Number(process.argv[2] ?? 5);
const mysqlUrl = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const database = 'mp_bench_catalog';
if (!existsSync('dist/src/main.js')) throw new Error('build first: npx nest build');

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});

const admin = await createConnection(mysqlUrl);
await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
await admin.query(
  `CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
);
await admin.end();

const env = {
  ...process.env,
  NODE_ENV: 'production',
  PORT: String(port),
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  DATABASE_URL: `${mysqlUrl.replace(/\/+$/, '')}/${database}`,
  REDIS_URL: redisUrl,
  REDIS_KEY_PREFIX: `bench${randomBytes(3).toString('hex')}:`,
  JWT_SECRET: 'bench-secret-bench-secret-bench-secret',
  WECHAT_APPID: 'wx-bench',
  WECHAT_SECRET: 'bench-wechat-secret',
  SHUTDOWN_DRAIN_MS: '0',
};

// Migrates and loads the demo catalog (the same command operators run).
execFileSync('node', ['dist/src/cli/seed.js'], { env, stdio: 'inherit' });

const server = spawn('taskset', ['-c', '1', 'node', 'dist/src/main.js'], { env, stdio: 'inherit' });
const base = `http://127.0.0.1:${port}`;
try {
  for (let i = 0; ; i++) {
    if (i > 100) throw new Error('server did not become ready');
    try {
      if ((await fetch(`${base}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = `${base}/api/v1/products/7`;
  const sample = await (await fetch(url)).json();
  if (sample.code !== 0) throw new Error(`unexpected answer: ${JSON.stringify(sample)}`);

  const wrk = (duration, latency) =>
    execFileSync(
      'taskset',
      ['-c', '0', 'wrk', '-t1', '-c64', `-d${duration}s`, ...(latency ? ['--latency'] : []), url],
      { encoding: 'utf8' },
    );
  wrk(2, false); // warm-up: JIT and cache
  const out = wrk(seconds, true);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
  const p99 = /^\s+99%\s+(\S+)/m.exec(out)?.[1];
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0';
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const hits = /cache_hits_total\{tier="l1"\} (\d+)/.exec(metrics)?.[1];
  console.log(
    `${'project GET /products/:id'.padEnd(28)} ${rps} req/s  p99 ${p99}  non-2xx ${errors}  l1 hits ${hits}`,
  );
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  const cleanup = await createConnection(mysqlUrl);
  await cleanup.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await cleanup.end();
}
