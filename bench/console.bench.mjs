#!/usr/bin/env node
// `npm run bench:console`: the staff console as a browser gets it, on the
// BUILT app (embedded sandbox, pinned to CPU 1) and Debian's Chromium.
// Prints figures, judges nothing:
// 1. first load of /console/: index.html's JS and CSS, raw, gzipped
//    (zlib level 9) and as the server sent them (Accept-Encoding: gzip);
// 2. time to an interactive orders page with 100 rows: from navigation to
//    /console/orders (signed in, cold cache) until the 100th row is in the
//    DOM, over `--runs` runs (median, min, max).
//
//   node bench/console.bench.mjs [--runs=10]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { get as httpGet } from 'node:http';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { median } from './lib/report.mjs';
import { startServer } from './lib/server.mjs';
import { benchArgs, freePort } from './lib/tools.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(repoRoot);

const args = benchArgs();
const runs = Number(args.runs ?? 10);
const ROWS = 100;
const dir = mkdtempSync(join(tmpdir(), 'mp-bench-console-'));
const env = {
  PATH: process.env.PATH,
  NODE_ENV: 'development',
  LOG_LEVEL: 'warn',
  EMBEDDED_DB_PATH: join(dir, 'db.sqlite'),
  CONSOLE_DIR: 'dist/console',
  SHUTDOWN_DRAIN_MS: '0',
  THROTTLE_DEFAULT_LIMIT: '1000000',
  THROTTLE_ORDERS_LIMIT: '1000000',
  THROTTLE_LOGIN_LIMIT: '1000000',
};

const cookieOf = (res, name) =>
  res.headers
    .getSetCookie()
    .find((c) => c.startsWith(`${name}=`))
    ?.split(';')[0];

async function json(res) {
  const body = await res.json();
  if (body.code !== 0) throw new Error(`${res.url}: ${res.status} ${JSON.stringify(body)}`);
  return body.data;
}

/** The development sign-in, as the page does it: returns the `mp_console=…` pair. */
async function devSignIn(base) {
  const created = await fetch(`${base}/console/login-tickets`, { method: 'POST' });
  const binder = cookieOf(created, 'mp_console_login');
  const { ticket } = await json(created);
  await json(
    await fetch(`${base}/console/login-tickets/${ticket}/dev-approve`, { method: 'POST' }),
  );
  const polled = await fetch(`${base}/console/login-tickets/${ticket}`, {
    headers: { Cookie: binder },
  });
  if ((await json(polled)).status !== 'approved') throw new Error('the ticket was not approved');
  return cookieOf(polled, 'mp_console');
}

/** The body's bytes as they crossed the socket (node:http does not decode them, unlike fetch). */
function wireBytes(url) {
  return new Promise((resolveBytes, reject) => {
    httpGet(url, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
      let n = 0;
      res.on('data', (chunk) => (n += chunk.length));
      res.on('end', () => resolveBytes(n));
      res.on('error', reject);
    }).on('error', reject);
  });
}

const port = await freePort();
const server = await startServer({ env, port });
const { base } = server;
let browser;
try {
  // 1. First load.
  const html = await (await fetch(`${base}/console/`)).text();
  const assets = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+\.(?:js|css))"/g)].map(
    (m) => m[1],
  );
  let raw = 0;
  let gz = 0;
  let sent = 0;
  for (const path of assets) {
    const body = Buffer.from(await (await fetch(`${base}${path}`)).arrayBuffer());
    raw += body.length;
    gz += gzipSync(body, { level: 9 }).length;
    sent += await wireBytes(`${base}${path}`);
  }
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`first load: ${assets.length} files (${assets.join(', ')})`);
  console.log(
    `  raw ${kb(raw)}, gzipped (level 9) ${kb(gz)}, as sent ${Number.isFinite(sent) ? kb(sent) : 'chunked'}`,
  );

  // 2. 100 orders, then the orders page.
  const cookie = await devSignIn(base);
  const staff = { Cookie: cookie, 'X-Console-CSRF': '1', 'Content-Type': 'application/json' };
  const product = await json(
    await fetch(`${base}/api/v1/admin/products`, {
      method: 'POST',
      headers: staff,
      body: JSON.stringify({
        name: 'Bench tea',
        description: '',
        priceCents: 1200,
        stock: 100000,
        delivery: 'virtual',
      }),
    }),
  );
  const buyer = await json(
    await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code: 'bench-console-buyer' }),
    }),
  );
  for (let i = 0; i < ROWS; i++) {
    await json(
      await fetch(`${base}/api/v1/orders`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${buyer.accessToken}`,
          'Idempotency-Key': `bench-console-${i}`,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({ items: [{ productId: product.id, quantity: 1 }] }),
      }),
    );
  }

  // The page's own wait: the list's API call, from here (no browser).
  const api = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await json(
      await fetch(`${base}/api/v1/admin/orders?limit=${ROWS}`, { headers: { Cookie: cookie } }),
    );
    api.push(performance.now() - start);
  }
  console.log(`GET /admin/orders?limit=${ROWS} alone: median ${median(api).toFixed(0)} ms`);

  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const [name, value] = cookie.split('=');
  const times = [];
  const parsed = [];
  for (let i = 0; i < runs + 1; i++) {
    // A new context each run: empty cache, the session cookie only.
    const context = await browser.newContext();
    await context.addCookies([{ name, value, url: base, httpOnly: true, sameSite: 'Strict' }]);
    const page = await context.newPage();
    const start = performance.now();
    await page.goto(`${base}/console/orders`);
    await page.locator(`tr[data-order] >> nth=${ROWS - 1}`).waitFor({ timeout: 10_000 });
    const ms = performance.now() - start;
    const nav = await page.evaluate(() => {
      const [n] = performance.getEntriesByType('navigation');
      return n.domContentLoadedEventEnd;
    });
    if (i > 0) parsed.push(nav);
    if (i > 0) times.push(ms); // the first run warms the server
    await context.close();
  }
  console.log(
    `orders page, ${ROWS} rows interactive: median ${median(times).toFixed(0)} ms, min ${Math.min(...times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms (${runs} runs, cold cache)`,
  );
  console.log(
    `  of which the app's files loaded and parsed (DOMContentLoaded): median ${median(parsed).toFixed(0)} ms`,
  );
  console.log(
    `load average during the run: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (2 shared cores)`,
  );
} finally {
  await browser?.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
