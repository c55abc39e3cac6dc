// `npm run cluster:local`: the compose topology on this machine without
// Docker. Builds nothing itself (the npm script runs `nest build` first),
// creates and migrates a database on the local MariaDB/MySQL, starts N app
// replicas and nginx (installed with apt-get when missing), prints the URL and
// stops everything on Ctrl-C or SIGTERM.
//
// Flags: --seed loads the demo products (what `npm run seed` adds).
//
// Environment (all optional):
//   CLUSTER_REPLICAS   number of app processes (WORKER_MODE=http) [3]
//   CLUSTER_WORKERS    number of worker processes (WORKER_MODE=worker) [1]
//   CLUSTER_PORT       nginx port on 127.0.0.1                 [8080]
//   CLUSTER_MYSQL_URL  server to create the database on       [mysql://root@127.0.0.1:3306]
//   CLUSTER_DATABASE   database name (dropped and recreated)   [mp_cluster_local]
//   REDIS_URL, JWT_SECRET, WECHAT_APPID, WECHAT_SECRET, WECHAT_API_BASE_URL,
//   ADMIN_OPENIDS, SHUTDOWN_DRAIN_MS, LOG_LEVEL … are passed to the replicas.
//   Without WECHAT_APPID/WECHAT_SECRET the replicas log users in through a
//   local fake WeChat (scripts/local-wechat.mjs): any code works.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ROOT, createDatabase, migrate, startCluster } from './cluster.mjs';
import { LOCAL_APPID, LOCAL_SECRET, startLocalWechat } from './local-wechat.mjs';

const replicas = Number(process.env.CLUSTER_REPLICAS ?? 3);
const workers = Number(process.env.CLUSTER_WORKERS ?? 1);
const nginxPort = Number(process.env.CLUSTER_PORT ?? 8080);
const mysqlUrl = process.env.CLUSTER_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const database = process.env.CLUSTER_DATABASE ?? 'mp_cluster_local';
const seed = process.argv.includes('--seed');

const realWechat = Boolean(process.env.WECHAT_APPID && process.env.WECHAT_SECRET);
const localWechat = realWechat ? undefined : await startLocalWechat();
if (localWechat) {
  process.stdout.write(
    `WECHAT_APPID/WECHAT_SECRET unset: logins go to a local fake WeChat on ${localWechat.url} (any code logs in)\n`,
  );
}

const env = {
  NODE_ENV: 'production',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  DATABASE_URL: await createDatabase(mysqlUrl, database),
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
  REDIS_KEY_PREFIX: process.env.REDIS_KEY_PREFIX ?? `${database}:`,
  JWT_SECRET: process.env.JWT_SECRET ?? randomBytes(32).toString('base64url'),
  ...(localWechat
    ? { WECHAT_APPID: LOCAL_APPID, WECHAT_SECRET: LOCAL_SECRET, WECHAT_API_BASE_URL: localWechat.url }
    : {
        WECHAT_APPID: process.env.WECHAT_APPID,
        WECHAT_SECRET: process.env.WECHAT_SECRET,
        ...(process.env.WECHAT_API_BASE_URL
          ? { WECHAT_API_BASE_URL: process.env.WECHAT_API_BASE_URL }
          : {}),
      }),
  ADMIN_OPENIDS: process.env.ADMIN_OPENIDS ?? '',
  SHUTDOWN_DRAIN_MS: process.env.SHUTDOWN_DRAIN_MS ?? '5000',
};

process.stdout.write(`database ${database}: applying migrations (TypeORM CLI)\n`);
migrate(env);
if (seed) {
  execFileSync(process.execPath, [join(ROOT, 'dist/src/cli/seed.js')], {
    env: { ...process.env, ...env },
    stdio: 'inherit',
  });
}

const cluster = await startCluster({
  env,
  replicas,
  workers,
  nginxPort,
  output: (name, text) => {
    for (const line of text.split('\n')) if (line) process.stdout.write(`[${name}] ${line}\n`);
  },
});
process.stdout.write(
  `\n${replicas} replicas (${cluster.replicas.map((r) => r.port).join(', ')}) behind nginx: ${cluster.url}\n` +
    `${workers} worker(s) (health and metrics on ${cluster.workers.map((w) => w.port).join(', ') || '-'})\n` +
    `nginx config and logs: ${cluster.workDir}\n` +
    `make an admin: DATABASE_URL=${withoutPassword(env.DATABASE_URL)} npm run admin -- grant <userId|openid>\n` +
    'Ctrl-C stops everything.\n',
);

/** The URL to show, its password (if CLUSTER_MYSQL_URL had one) hidden. */
function withoutPassword(value) {
  const url = new URL(value);
  if (url.password) url.password = '…';
  return url.toString();
}

let stopping = false;
const stop = async (signal) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: draining the replicas, then stopping nginx\n`);
  await cluster.stop();
  await localWechat?.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
