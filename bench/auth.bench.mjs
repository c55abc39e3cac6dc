#!/usr/bin/env node
// Auth hot paths of the BUILT app (run `npx nest build` first):
//   1. POST /api/v1/auth/login against a fake WeChat (logins/s),
//   2. GET /api/v1/users/me with a bearer token (req/s, p99).
// The server runs pinned to CPU 1 (`taskset -c 1 node dist/src/main.js`) with
// a local MariaDB database (created and migrated here) and Redis; wrk and the
// fake WeChat run on CPU 0. Only 127.0.0.1 is used. Prints a table.
//
//   node bench/auth.bench.mjs [seconds]        (default 5 per scenario)
//   BENCH_ANCHORS=1 node bench/auth.bench.mjs  also runs /work/shared/bench/anchors/run.sh first
//   env: BENCH_MYSQL_URL (mysql://root@127.0.0.1:3306), BENCH_REDIS_URL, LOG_LEVEL (info)
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';

const seconds = Number(process.argv[2] ?? 5);
const mysqlUrl = (process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, '');
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const database = 'mp_bench_auth';
const port = 4310;
const appid = 'wx-bench-appid';
const secret = 'bench-wechat-secret';

function need(cmd) {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) {
    console.error(
      `${cmd} is required (apt-get install -y ${cmd === 'taskset' ? 'util-linux' : cmd})`,
    );
    process.exit(1);
  }
}
need('wrk');
need('taskset');

// This process (fake WeChat) and wrk share CPU 0; the server has CPU 1.
execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });

if (process.env.BENCH_ANCHORS === '1') {
  console.log('anchors (same run):');
  try {
    execFileSync('bash', ['/work/shared/bench/anchors/run.sh', String(seconds)], {
      stdio: 'inherit',
      env: { ...process.env, ANCHOR_WORKDIR: join(tmpdir(), 'anchors-auth-bench') },
    });
  } catch {
    console.error('anchors failed (ports 4105/4106 busy?); continuing without them');
  }
}

// A fake WeChat: any code logs in; 1000 distinct users, as returning users dominate.
const fake = createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname === '/sns/jscode2session' && url.searchParams.get('secret') === secret) {
    const n = Number(url.searchParams.get('js_code').split('-').pop()) % 1000;
    res.end(
      JSON.stringify({
        openid: `bench-user-${n}`,
        session_key: createHash('md5').update(String(n)).digest('base64'),
      }),
    );
    return;
  }
  res.end(JSON.stringify({ errcode: 40013, errmsg: 'invalid appid' }));
});
await new Promise((r) => fake.listen(0, '127.0.0.1', r));
const wechatUrl = `http://127.0.0.1:${fake.address().port}`;

const admin = await createConnection(mysqlUrl);
await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
await admin.query(
  `CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
);
await admin.end();

const env = {
  ...process.env,
  NODE_ENV: 'production',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  PORT: String(port),
  HOST: '127.0.0.1',
  DATABASE_URL: `${mysqlUrl}/${database}`,
  REDIS_URL: redisUrl,
  REDIS_KEY_PREFIX: `bench${randomBytes(3).toString('hex')}:`,
  JWT_SECRET: randomBytes(32).toString('hex'),
  WECHAT_APPID: appid,
  WECHAT_SECRET: secret,
  WECHAT_API_BASE_URL: wechatUrl,
  SHUTDOWN_DRAIN_MS: '0',
};
execFileSync(
  'node',
  ['node_modules/typeorm/cli.js', '-d', 'dist/src/infra/database/data-source.js', 'migration:run'],
  {
    env,
    stdio: 'ignore',
  },
);

const server = spawn('taskset', ['-c', '1', 'node', ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE] : []), 'dist/src/main.js'], {
  env,
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${base}/health/ready`)).ok) break;
  } catch {
    // not listening yet
  }
  if (i > 100) throw new Error('server did not start');
  await new Promise((r) => setTimeout(r, 100));
}

const login = await fetch(`${base}/api/v1/auth/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ code: 'warm-0' }),
});
const { accessToken } = (await login.json()).data;

const loginScript = join(tmpdir(), `auth-bench-login-${process.pid}.lua`);
writeFileSync(
  loginScript,
  `local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, '{"code":"bench-' .. n .. '"}')
end
`,
);

// Asynchronous: the fake WeChat in this process must keep answering meanwhile.
async function wrk(args) {
  const { stdout: out } = await promisify(execFile)(
    'taskset',
    ['-c', '0', 'wrk', '-t1', '--latency', ...args],
    {
      encoding: 'utf8',
    },
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const p99 = /\s99%\s+([\d.]+\w+)/.exec(out)?.[1];
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { rps, p99, non2xx };
}

const rows = [];
try {
  // Warm-ups let V8 optimise and fill pools before measuring.
  await wrk(['-c16', '-d2s', '-s', loginScript, `${base}/api/v1/auth/login`]);
  rows.push([
    'POST /auth/login (c16)',
    await wrk(['-c16', `-d${seconds}s`, '-s', loginScript, `${base}/api/v1/auth/login`]),
  ]);
  const auth = ['-H', `Authorization: Bearer ${accessToken}`, `${base}/api/v1/users/me`];
  await wrk(['-c64', '-d2s', ...auth]);
  rows.push(['GET /users/me (c64)', await wrk(['-c64', `-d${seconds}s`, ...auth])]);
} finally {
  server.kill('SIGTERM');
  fake.close();
  const drop = await createConnection(mysqlUrl);
  await drop.query(`DROP DATABASE IF EXISTS \`${database}\``);
  await drop.end();
}

console.log(
  `\nauth benchmark: server on CPU 1, wrk on CPU 0, ${seconds}s each, LOG_LEVEL=${env.LOG_LEVEL}`,
);
console.log('scenario                      req/s      p99        non-2xx');
for (const [name, r] of rows) {
  console.log(
    `${name.padEnd(28)}  ${r.rps.toFixed(0).padStart(8)}   ${String(r.p99).padEnd(9)}  ${r.non2xx}`,
  );
}
