#!/usr/bin/env node
// POST /api/v1/orders on the BUILT app (run `npx nest build` first): orders/s
// and p99 on one core. Each request has a unique Idempotency-Key and 1-2
// lines of 20 products with ample stock, from 16 users, so it measures the
// real write path: auth, throttle counter, one transaction (products read,
// order insert, guarded stock UPDATEs, items insert), cache invalidation and
// the read-your-writes marker.
// The server runs pinned to CPU 1 (`taskset -c 1 node dist/src/main.js`) with
// its own MariaDB database (created, migrated, dropped here) and Redis; wrk
// and the fake WeChat run on CPU 0. Only 127.0.0.1 is used. Prints figures.
//
//   node bench/orders.bench.mjs [seconds]        (default 5)
//   BENCH_ANCHORS=1 node bench/orders.bench.mjs  also runs /work/shared/bench/anchors/run.sh first
//   env: BENCH_MYSQL_URL (mysql://root@127.0.0.1:3306), BENCH_REDIS_URL, BENCH_CONNECTIONS (16)
//   import { benchOrders } from './bench/orders.bench.mjs'; await benchOrders({ seconds: 5 })
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createConnection } from 'mysql2/promise';

const PRODUCTS = 20;
const USERS = 16;

function need(cmd) {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) {
    throw new Error(
      `${cmd} is required (apt-get install -y ${cmd === 'taskset' ? 'util-linux' : cmd})`,
    );
  }
}

async function freePort() {
  const probe = createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address();
  await new Promise((r) => probe.close(r));
  return port;
}

/** Runs the benchmark and returns its figures; prints them too. */
export async function benchOrders({
  seconds = 5,
  connections = Number(process.env.BENCH_CONNECTIONS ?? 16),
  mysqlUrl = (process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/+$/, ''),
  redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0',
  anchors = process.env.BENCH_ANCHORS === '1',
} = {}) {
  need('wrk');
  need('taskset');
  const database = `mp_bench_orders_${randomBytes(3).toString('hex')}`;
  const secret = 'bench-wechat-secret';

  // This process (fake WeChat) and wrk share CPU 0; the server has CPU 1.
  execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });

  if (anchors) {
    console.log('anchors (same run):');
    try {
      execFileSync('bash', ['/work/shared/bench/anchors/run.sh', String(seconds)], {
        stdio: 'inherit',
        env: { ...process.env, ANCHOR_WORKDIR: join(tmpdir(), 'anchors-orders-bench') },
      });
    } catch {
      console.error('anchors failed (ports 4105/4106 busy?); continuing without them');
    }
  }

  // A fake WeChat: the code is the user.
  const fake = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const code = url.searchParams.get('js_code') ?? '';
    if (url.pathname === '/sns/jscode2session' && url.searchParams.get('secret') === secret) {
      res.end(
        JSON.stringify({
          openid: `bench-${code}`,
          session_key: createHash('md5').update(code).digest('base64'),
        }),
      );
      return;
    }
    res.end(JSON.stringify({ errcode: 40013, errmsg: 'invalid appid' }));
  });
  await new Promise((r) => fake.listen(0, '127.0.0.1', r));

  const admin = await createConnection(mysqlUrl);
  await admin.query(
    `CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
  );
  await admin.end();

  const port = await freePort();
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: `${mysqlUrl}/${database}`,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `bench${randomBytes(3).toString('hex')}:`,
    JWT_SECRET: randomBytes(32).toString('hex'),
    WECHAT_APPID: 'wx-bench-appid',
    WECHAT_SECRET: secret,
    WECHAT_API_BASE_URL: `http://127.0.0.1:${fake.address().port}`,
    ADMIN_OPENIDS: 'bench-admin',
    // The per-user orders limit stays on (its counter is part of the path), out of reach.
    THROTTLE_ORDERS_LIMIT: '1000000000',
    // 17 logins from one address at setup.
    THROTTLE_LOGIN_LIMIT: '1000',
    SHUTDOWN_DRAIN_MS: '0',
  };
  execFileSync(
    'node',
    [
      'node_modules/typeorm/cli.js',
      '-d',
      'dist/src/infra/database/data-source.js',
      'migration:run',
    ],
    { env, stdio: 'ignore' },
  );

  const server = spawn('taskset', ['-c', '1', 'node', 'dist/src/main.js'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const script = join(tmpdir(), `orders-bench-${process.pid}.lua`);
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/health/ready`)).ok) break;
      } catch {
        // not listening yet
      }
      if (i > 100) throw new Error('server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const call = async (path, { token, body, headers = {} } = {}) => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: JSON.stringify(body),
      });
      const json = await res.json();
      if (json.code !== 0) throw new Error(`${path}: ${JSON.stringify(json)}`);
      return json.data;
    };
    const adminToken = (await call('/api/v1/auth/login', { body: { code: 'admin' } })).accessToken;
    for (let i = 0; i < PRODUCTS; i++) {
      await call('/api/v1/admin/products', {
        token: adminToken,
        body: { name: `Bench tea ${i}`, priceCents: 1000 + i, stock: 2_000_000_000 },
      });
    }
    const tokens = [];
    for (let i = 0; i < USERS; i++) {
      tokens.push((await call('/api/v1/auth/login', { body: { code: `user-${i}` } })).accessToken);
    }
    // Product ids are 1..PRODUCTS in a fresh database; this order proves the setup.
    await call('/api/v1/orders', {
      token: tokens[0],
      headers: { 'idempotency-key': `probe-${randomBytes(6).toString('hex')}` },
      body: { items: [{ productId: 1, quantity: 1 }] },
    });

    // Unique keys per wrk run (its prefix is the script argument) and request;
    // 1-2 lines of distinct products.
    writeFileSync(
      script,
      `local tokens = { ${tokens.map((t) => `"${t}"`).join(', ')} }
local prefix = ""
local n = 0
init = function(args)
  prefix = args[1] .. "-"
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local a = math.random(1, ${PRODUCTS})
  local items = '{"productId":' .. a .. ',"quantity":' .. math.random(1, 3) .. '}'
  if n % 2 == 0 then
    items = items .. ',{"productId":' .. (a % ${PRODUCTS} + 1) .. ',"quantity":1}'
  end
  wrk.headers["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1]
  wrk.headers["Idempotency-Key"] = prefix .. string.format("%010d", n)
  return wrk.format(nil, nil, nil, '{"items":[' .. items .. ']}')
end
`,
    );
    const wrk = async (duration) => {
      const { stdout } = await promisify(execFile)(
        'taskset',
        [
          '-c',
          '0',
          'wrk',
          '-t1',
          `-c${connections}`,
          `-d${duration}s`,
          '--latency',
          '-s',
          script,
          `${base}/api/v1/orders`,
          '--',
          randomBytes(4).toString('hex'),
        ],
        { encoding: 'utf8' },
      );
      return {
        requests: Number(/(\d+) requests in/.exec(stdout)?.[1]),
        rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]),
        p50: /\s50%\s+([\d.]+\w+)/.exec(stdout)?.[1],
        p99: /\s99%\s+([\d.]+\w+)/.exec(stdout)?.[1],
        non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0),
      };
    };
    await wrk(2); // warm-up: JIT, pools, buffer pool
    const db = await createConnection(`${mysqlUrl}/${database}`);
    const [[{ n: before }]] = await db.query('SELECT COUNT(*) AS n FROM orders');
    const result = await wrk(seconds);
    const [[{ n: after }]] = await db.query('SELECT COUNT(*) AS n FROM orders');
    await db.end();
    const figures = { ...result, ordersWritten: Number(after) - Number(before) };
    console.log(
      `\norders benchmark: server on CPU 1, wrk on CPU 0 (-c${connections}), ${seconds}s, ` +
        `${PRODUCTS} products, ${USERS} users, unique Idempotency-Keys`,
    );
    console.log(
      'scenario                 orders/s   p50        p99        non-2xx  requests  orders written',
    );
    console.log(
      `${'POST /orders'.padEnd(23)}  ${figures.rps.toFixed(0).padStart(8)}   ${String(figures.p50).padEnd(9)}  ` +
        `${String(figures.p99).padEnd(9)}  ${String(figures.non2xx).padEnd(7)}  ` +
        `${String(figures.requests).padEnd(8)}  ${figures.ordersWritten}`,
    );
    return figures;
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    fake.close();
    rmSync(script, { force: true });
    const drop = await createConnection(mysqlUrl);
    await drop.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await drop.end();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await benchOrders({ seconds: Number(process.argv[2] ?? 5) });
}
