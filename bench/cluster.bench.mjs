// Throughput of the deploy topology: req/s and p99 of GET /api/v1/products/:id
// (cached hot path) through nginx with 1, 2 and 3 replicas, and one replica
// without nginx as the reference in the same run. Prints figures; judges nothing.
//   npm run bench:cluster            (or: npx nest build && node bench/cluster.bench.mjs [seconds])
// Needs MariaDB (root, no password) and Redis on 127.0.0.1, wrk and nginx.
// Nothing is pinned: the point is how replicas share the machine's cores with
// nginx and wrk, so run it on an otherwise idle machine and read the figures
// as ratios to the reference line.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createDatabase, dropDatabase, migrate, startCluster } from '../scripts/cluster.mjs';

const seconds = Number(process.argv[2] ?? 5);
const mysqlUrl = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const database = 'mp_bench_cluster';

const env = {
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  DATABASE_URL: await createDatabase(mysqlUrl, database),
  REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
  REDIS_KEY_PREFIX: `bench${randomBytes(3).toString('hex')}:`,
  JWT_SECRET: 'bench-secret-bench-secret-bench-secret',
  WECHAT_APPID: 'wx-bench',
  WECHAT_SECRET: 'bench-wechat-secret',
  THROTTLE_ENABLED: 'false',
  SHUTDOWN_DRAIN_MS: '0',
};
migrate(env);
// The demo catalog, as operators load it.
execFileSync(process.execPath, ['dist/src/cli/seed.js'], { env: { ...process.env, ...env } });

function wrk(url, duration) {
  const out = execFileSync('wrk', ['-t1', '-c64', `-d${duration}s`, '--latency', url], {
    encoding: 'utf8',
  });
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p99: /^\s+99%\s+(\S+)/m.exec(out)?.[1],
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    errors: /Socket errors: (.*)/.exec(out)?.[1] ?? 'none',
  };
}

const rows = [];
try {
  for (const replicas of [1, 2, 3]) {
    const cluster = await startCluster({ env, replicas });
    try {
      const path = '/api/v1/products/7';
      if (replicas === 1) {
        const direct = `${cluster.replicas[0].url}${path}`;
        wrk(direct, 2);
        rows.push({ setup: '1 replica, no nginx (reference)', ...wrk(direct, seconds) });
      }
      wrk(`${cluster.url}${path}`, 2); // warm-up: JIT and every replica's L1
      rows.push({
        setup: `nginx + ${replicas} replica(s)`,
        ...wrk(`${cluster.url}${path}`, seconds),
      });
    } finally {
      await cluster.stop();
    }
  }
} finally {
  await dropDatabase(mysqlUrl, database);
}
console.log(`GET /api/v1/products/7, wrk -t1 -c64, ${seconds}s each, ${new Date().toISOString()}`);
console.table(rows);
