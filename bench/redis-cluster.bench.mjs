// The Redis hot path on a 3-master Redis Cluster beside one Redis: req/s and
// p50/p99 of GET /api/v1/users/me (JWT, session liveness, per-user throttle
// counter, cached profile) and GET /api/v1/products/7 (per-IP counter, cached
// product), one app on CPU 1, wrk on CPU 0, the Redis servers unpinned.
// Rounds alternate the two topologies (the machine's speed drifts); the
// table shows each line's median. Prints figures; judges nothing.
//   npm run bench:redis-cluster -- [--seconds=10] [--rounds=3]
// Needs MariaDB (root, no password) on 127.0.0.1, redis-server, redis-cli, wrk.
// The cluster is the bench's own: spare ports, a temp dir, killed at the end.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createBenchDatabase } from './lib/database.mjs';
import { startFakeWechat } from './lib/fake-wechat.mjs';
import { printTable } from './lib/report.mjs';
import { benchAppEnv, startServer } from './lib/server.mjs';
import { benchArgs, ensureTools, freePort, pinSelfToCpu0, sleep } from './lib/tools.mjs';
import { wrk } from './lib/wrk.mjs';

const run = promisify(execFile);
const args = benchArgs();
const seconds = Number(args.seconds ?? 10);
const rounds = Number(args.rounds ?? 3);
const mysqlUrl = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const API = '/api/v1';

/** Three cluster-mode redis-servers joined by redis-cli --cluster create. */
async function startCluster(masters = 3) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
  const children = [];
  const stop = () => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ports = [];
    for (let i = 0; i < masters; i++) {
      const [port, bus] = [await freePort(), await freePort()];
      ports.push(port);
      children.push(
        spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
          '--cluster-enabled', 'yes', '--cluster-port', String(bus), '--cluster-config-file', `nodes-${port}.conf`], {
          cwd: dir,
          stdio: 'ignore',
        }),
      );
    }
    const nodes = ports.map((p) => `127.0.0.1:${p}`);
    for (let i = 0; ; i++) {
      try {
        await Promise.all(ports.map((p) => run('redis-cli', ['-p', String(p), 'ping'])));
        break;
      } catch {
        if (i > 100) throw new Error('redis-server did not start');
        await sleep(50);
      }
    }
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-yes']);
    for (let i = 0; ; i++) {
      const infos = await Promise.all(ports.map((p) => run('redis-cli', ['-p', String(p), 'cluster', 'info'])));
      if (infos.every((r) => r.stdout.includes('cluster_state:ok'))) break;
      if (i > 200) throw new Error('cluster_state never became ok');
      await sleep(50);
    }
    return { nodes: nodes.join(','), stop };
  } catch (err) {
    stop();
    throw err;
  }
}

async function login(base) {
  const res = await fetch(`${base}${API}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: 'warm-0' }),
  });
  const body = await res.json();
  if (body.code !== 0) throw new Error(`login failed: ${JSON.stringify(body)}`);
  return body.data.accessToken;
}

ensureTools();
pinSelfToCpu0();
const wechat = await startFakeWechat({ users: 1000 });
const db = await createBenchDatabase(mysqlUrl, `mp_bench_rc_${process.pid}`);
const cluster = await startCluster();
const base = benchAppEnv({
  databaseUrl: db.url,
  redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
  wechatUrl: wechat.url,
  LOG_LEVEL: 'warn',
  THROTTLE_LOGIN_LIMIT: '1000000000',
});
const topologies = [
  { name: 'one Redis', env: {} },
  { name: '3-master cluster', env: { REDIS_CLUSTER_NODES: cluster.nodes } },
];
const results = new Map();
try {
  db.migrate(base);
  await db.seedProducts(10);
  const port = await freePort();
  for (let round = 0; round < rounds; round++) {
    for (const t of topologies) {
      const env = { ...base, ...t.env, REDIS_KEY_PREFIX: `benchrc${randomBytes(3).toString('hex')}:` };
      const server = await startServer({ env, port, name: t.name });
      try {
        const bearer = { Authorization: `Bearer ${await login(server.base)}` };
        for (const [path, headers] of [['/users/me', bearer], ['/products/7', {}]]) {
          const name = `${t.name}: GET ${path} (c64)`;
          const r = await wrk({ url: `${server.base}${API}${path}`, seconds, headers });
          results.set(name, [...(results.get(name) ?? []), r]);
          console.log(`round ${round + 1}/${rounds} ${name}: ${r.rps.toFixed(0)} req/s`);
        }
      } finally {
        await server.stop();
      }
    }
  }
} finally {
  cluster.stop();
  await wechat.close();
  await db.drop();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`\n${new Date().toISOString()}, ${rounds} round(s) of ${seconds}s, medians`);
printTable(
  [...results].map(([name, rs]) => ({
    name,
    rps: median(rs.map((r) => r.rps)),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
  })),
);
