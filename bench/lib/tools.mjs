// Process helpers shared by the benchmarks: arguments, required tools, CPU pinning, ports, Redis cleanup.
import { execFileSync, spawnSync } from 'node:child_process';

/** `--key=value` (and a bare `--flag`, read as 'true') from the command line. */
export function benchArgs(argv = process.argv.slice(2)) {
  return Object.fromEntries(
    argv.map((a) => {
      const [k, v] = a.replace(/^--/, '').split('=');
      return [k, v ?? 'true'];
    }),
  );
}

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** wrk and taskset, installed through apt when missing (as the anchors' run.sh does). */
export function ensureTools() {
  const missing = [];
  if (!has('wrk')) missing.push('wrk');
  if (!has('taskset')) missing.push('util-linux');
  if (missing.length === 0) return;
  console.log(`installing ${missing.join(' ')} (apt)`);
  execFileSync('sh', ['-c', `apt-get update -qq && apt-get install -y -qq ${missing.join(' ')}`], {
    stdio: 'inherit',
  });
}

/** This process (wrk driver, fake WeChat) stays on CPU 0; the server gets CPU 1. */
export function pinSelfToCpu0() {
  execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
}

export { freePort } from '../../scripts/free-port.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Deletes the keys a bench wrote under `prefix` (`redis` is a client with that keyPrefix). */
export async function dropKeys(redis, prefix) {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
  } while (cursor !== '0');
}
