#!/usr/bin/env node
// `npm run bench:tracing`: GET /users/me with tracing off and on, in the same
// run, on the BUILT app pinned to CPU 1 with wrk on CPU 0, against local
// MariaDB, Redis, a fake WeChat and a local OTLP sink (this process, which
// counts what it receives and drops it). Rounds alternate off/on, each on a
// fresh server, so neither side gets the quieter minute. Prints figures,
// judges nothing; writes bench/results/tracing.json.
//
//   node bench/tracing.bench.mjs [--seconds=5] [--rounds=3] [--connections=64] [--sample=1]
// --sample: OTEL_TRACES_SAMPLER_ARG of the "on" server (1 = every request traced).
// env: BENCH_MYSQL_URL (mysql://root@127.0.0.1:3306), BENCH_REDIS_URL, LOG_LEVEL (warn)
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBenchDatabase } from './lib/database.mjs';
import { startFakeWechat } from './lib/fake-wechat.mjs';
import { median, printTable, summarize } from './lib/report.mjs';
import { benchAppEnv, login, startServer } from './lib/server.mjs';
import { benchArgs, dropKeys, ensureTools, freePort, pinSelfToCpu0 } from './lib/tools.mjs';
import { wrk } from './lib/wrk.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(repoRoot);
const require = createRequire(import.meta.url);
const { Redis } = require('ioredis');

const args = benchArgs();
const seconds = Number(args.seconds ?? 5);
const rounds = Number(args.rounds ?? 3);
const connections = Number(args.connections ?? 64);
const sample = String(args.sample ?? 1);
const mysqlUrl = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const API = '/api/v1';

ensureTools();
pinSelfToCpu0();

// The collector: accepts OTLP/HTTP posts and keeps only their count and size.
const received = { posts: 0, bytes: 0 };
const sink = createServer((req, res) => {
  req.on('data', (chunk) => (received.bytes += chunk.length));
  req.on('end', () => {
    received.posts += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise((r) => sink.listen(0, '127.0.0.1', r));

const wechat = await startFakeWechat({ users: 10 });
const db = await createBenchDatabase(mysqlUrl, `mp_bench_tracing_${process.pid}`);
const prefix = `bench${randomBytes(3).toString('hex')}:`;
const env = benchAppEnv({
  databaseUrl: db.url,
  redisUrl,
  wechatUrl: wechat.url,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  REDIS_KEY_PREFIX: prefix,
  OTEL_EXPORTER_OTLP_ENDPOINT: '',
});
const traced = {
  ...env,
  OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.address().port}`,
  OTEL_TRACES_SAMPLER_ARG: sample,
};
const redis = new Redis(redisUrl, { keyPrefix: prefix });
const port = await freePort();
let server;
const runs = { off: [], on: [] };
const spanBytes = [];
try {
  db.migrate(env);
  let token;
  for (let round = 0; round < rounds; round++) {
    for (const mode of ['off', 'on']) {
      server = await startServer({ env: mode === 'on' ? traced : env, port });
      // One login; the session lives in Redis and serves every server of the run.
      token ??= (await login(server.base, 'bench-tracing-1')).accessToken;
      const before = received.bytes;
      const r = await wrk({
        url: `${server.base}${API}/users/me`,
        seconds,
        connections,
        headers: { authorization: `Bearer ${token}` },
      });
      await server.stop(); // flushes the last spans
      server = undefined;
      if (mode === 'on') spanBytes.push(received.bytes - before);
      runs[mode].push(r);
      console.log(`round ${round + 1}/${rounds}: tracing ${mode}: ${Math.round(r.rps)} req/s, p99 ${r.p99} ms`);
    }
  }
} finally {
  await server?.stop();
  await wechat.close();
  await db.drop();
  await dropKeys(redis, prefix);
  redis.disconnect();
  sink.close();
}

const off = summarize(runs.off);
const on = summarize(runs.on);
const rows = [
  { ...off, name: `GET /users/me, tracing off (median ${rounds})`, note: 'OTEL_EXPORTER_OTLP_ENDPOINT unset' },
  {
    ...on,
    name: `GET /users/me, tracing on (median ${rounds})`,
    note: `sampled ${sample}; on/off ${(on.rps / off.rps).toFixed(2)}; OTLP ${Math.round(median(spanBytes) / 1024)} KiB/round`,
  },
];
printTable(rows);
console.log(`OTLP sink: ${received.posts} posts, ${Math.round(received.bytes / 1024)} KiB`);
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/tracing.json',
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, seconds, rounds, connections, sample, rows, runs }, null, 2)}\n`,
);
