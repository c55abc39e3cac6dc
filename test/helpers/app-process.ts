import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { baseEnv } from './env.js';
import { freePort } from './redis-server.js';
import type { Stack } from './stack.js';
import { sleep } from './until.js';

const main = new URL('../../dist/src/main.js', import.meta.url).pathname;

/** The built app (dist/) in a process of its own: what a kill -9 test kills. */
export interface AppProcess {
  process: ChildProcess;
  base: string;
  /** The last 20,000 characters it printed. */
  output(): string;
}

export function assertBuilt(): void {
  if (!existsSync(main)) throw new Error('run `npm run build` first (npm test does it)');
}

/** Starts dist/src/main.js with `env` on `port` and waits until it answers ready. */
export async function startAppProcess(
  env: Record<string, string>,
  port: number,
): Promise<AppProcess> {
  let out = '';
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`child exited: ${out}`);
    const ok = await fetch(`${base}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 450) throw new Error(`child not ready: ${out}`);
    await sleep(100);
  }
  return { process: child, base, output: () => out };
}

/** SIGKILL: a crash, not a shutdown; resolves once the process is gone. */
export async function kill9(c: AppProcess): Promise<void> {
  const exited = new Promise((r) => c.process.once('exit', r));
  c.process.kill('SIGKILL');
  await exited;
}

/**
 * A replica of a stack's app in its own process (same database, Redis
 * prefix and fake WeChat), with small flash batches claimed after 0.5 s:
 * the kill -9 tests' children. `extra` is added to its environment.
 */
export async function startFlashChild(
  stack: Stack,
  mode: 'http' | 'worker',
  extra: Record<string, string> = {},
): Promise<AppProcess> {
  return startAppProcess(
    {
      ...baseEnv(stack.db.url, stack.app.config.redis?.keyPrefix as string),
      WECHAT_API_BASE_URL: stack.wx.url,
      LOG_LEVEL: 'warn',
      WORKER_MODE: mode,
      FLASH_BATCH_SIZE: '5',
      FLASH_CLAIM_IDLE_MS: '500',
      ...extra,
    },
    await freePort(),
  );
}

/** POST /flash-sales/:id/orders for one unit over plain fetch (to a child or a listening app). */
export async function postFlashBuy(
  base: string,
  saleId: number,
  accessToken: string,
  key: string,
): Promise<{ status: number; code: number; ticket?: string }> {
  const res = await fetch(`${base}/api/v1/flash-sales/${saleId}/orders`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${accessToken}`,
      'idempotency-key': key,
    },
    body: '{"quantity":1}',
  });
  const body = (await res.json()) as { code: number; data?: { ticket: string } };
  return { status: res.status, code: body.code, ticket: body.data?.ticket };
}
