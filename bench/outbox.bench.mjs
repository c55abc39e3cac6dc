#!/usr/bin/env node
// `npm run bench:outbox`: the outbox relay and BullMQ on the BUILT app, one
// worker process (WORKER_MODE=worker) pinned to CPU 1, local MariaDB and
// Redis. Prints figures, judges nothing.
//
//   node bench/outbox.bench.mjs [--events=5000] [--paced=200] [--rate=50]
//
// 1. throughput: `--events` events committed in bulk (500 per transaction),
//    timed until the consumer has processed all of them: events relayed and
//    consumed per second;
// 2. latency: `--paced` events committed one per transaction at `--rate`/s,
//    commit-to-consumer p50/p99 (the consumer's start minus created_at).
// env: BENCH_MYSQL_URL (mysql://root@127.0.0.1:3306), BENCH_REDIS_URL, LOG_LEVEL (warn)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { createConnection } from 'mysql2/promise';
import { createBenchDatabase } from './lib/database.mjs';
import { benchArgs, freePort, sleep } from './lib/tools.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(repoRoot);
const require = createRequire(import.meta.url);
const { Redis } = require('ioredis');

const args = benchArgs();
const events = Number(args.events ?? 5000);
const paced = Number(args.paced ?? 200);
const rate = Number(args.rate ?? 50);
const mysqlUrl = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const prefix = `bench${randomBytes(3).toString('hex')}:`;

const db = await createBenchDatabase(mysqlUrl, `mp_bench_outbox_${process.pid}`);
const env = {
  ...process.env,
  NODE_ENV: 'production',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  DATABASE_URL: db.url,
  REDIS_URL: redisUrl,
  REDIS_KEY_PREFIX: prefix,
  JWT_SECRET: randomBytes(32).toString('hex'),
  WECHAT_APPID: 'wx-bench',
  WECHAT_SECRET: 'bench-secret',
  WORKER_MODE: 'worker',
  SHUTDOWN_DRAIN_MS: '0',
  OUTBOX_POLL_MS: process.env.OUTBOX_POLL_MS ?? '100',
};
const percentile = (xs, p) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

let worker;
const conn = await createConnection({ uri: db.url, timezone: 'Z' });
try {
  db.migrate(env);
  const port = await freePort();
  worker = spawn('taskset', ['-c', '1', process.execPath, 'bench/lib/outbox-worker.mjs'], {
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  worker.stdout.on('data', (c) => (output += c.toString()));
  for (let i = 0; !output.includes('READY'); i++) {
    if (worker.exitCode !== null || i > 600) throw new Error('worker did not start');
    await sleep(100);
  }
  const processed = async () =>
    Number((await conn.query("SELECT COUNT(*) AS n FROM processed_events WHERE consumer = 'bench.echo'"))[0][0].n);
  const latencies = async () => {
    const from = output.length;
    worker.kill('SIGUSR2');
    for (;;) {
      const line = /LATENCIES (.*)\n/.exec(output.slice(from));
      if (line) return JSON.parse(line[1]);
      await sleep(20);
    }
  };
  const insert = async (n, aggregate) => {
    const now = new Date();
    const rows = Array.from({ length: n }, (_, i) => ['bench.echo', 'bench', `${aggregate}-${i % 50}`, '{}', now]);
    await conn.query('INSERT INTO outbox (type, aggregate_type, aggregate_id, payload, created_at) VALUES ?', [rows]);
  };

  const t0 = performance.now();
  for (let done = 0; done < events; done += 500) await insert(Math.min(500, events - done), 'bulk');
  while ((await processed()) < events) await sleep(20);
  const seconds = (performance.now() - t0) / 1000;
  const bulk = await latencies();
  console.log(
    `throughput: ${events} events relayed and consumed in ${seconds.toFixed(2)} s = ${Math.round(events / seconds)} events/s ` +
      `(commit-to-consumer under that backlog: p50 ${percentile(bulk, 50)} ms, p99 ${percentile(bulk, 99)} ms)`,
  );

  for (let i = 0; i < paced; i++) {
    await insert(1, `paced-${i}`);
    await sleep(1000 / rate);
  }
  while ((await processed()) < events + paced) await sleep(20);
  const single = await latencies();
  console.log(
    `latency: ${paced} events at ${rate}/s, one per transaction: commit-to-consumer p50 ${percentile(single, 50)} ms, ` +
      `p99 ${percentile(single, 99)} ms (OUTBOX_POLL_MS=${env.OUTBOX_POLL_MS})`,
  );
} finally {
  await conn.end();
  if (worker && worker.exitCode === null) {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
  }
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await db.drop?.();
}
