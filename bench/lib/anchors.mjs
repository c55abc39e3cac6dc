// Runs the shared hot-path anchors (bare Fastify and Gin, run.sh) in this run,
// so the project's figures can be read as ratios on the same, possibly busy, machine.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { toMs } from './wrk.mjs';

/**
 * shared/bench/anchors/run.sh in the folder that holds the repository (the
 * anchors are not part of it: CI and developers keep them there), or one level
 * further up for a git worktree in a subfolder (docs/benchmarks.md).
 */
export function anchorsScript(repoRoot) {
  const candidates = [resolve(repoRoot, '..'), resolve(repoRoot, '..', '..')].map((dir) =>
    resolve(dir, 'shared', 'bench', 'anchors', 'run.sh'),
  );
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

/**
 * { 'anchor-fastify-hot': { rps, p99 }, 'anchor-gin-hot': … } (`which` = hot),
 * or the flash anchors (`which` = flash); null when run.sh is absent or fails.
 */
export async function runAnchors(repoRoot, seconds, which = 'hot') {
  const script = anchorsScript(repoRoot);
  if (!existsSync(script)) {
    console.warn(`anchors: ${script} not found; ratios are left out`);
    return null;
  }
  try {
    const { stdout } = await promisify(execFile)('bash', [script, String(seconds), which], {
      encoding: 'utf8',
      env: { ...process.env, ANCHOR_WORKDIR: join(tmpdir(), 'wx-mp-bench-anchors') },
      timeout: (seconds * 2 + 300) * 1000,
    });
    const out = {};
    for (const m of stdout.matchAll(/^(anchor-\S+)\s+([\d.]+) req\/s\s+p99 (\S+)/gm)) {
      out[m[1]] = { rps: Number(m[2]), p99: toMs(m[3]) };
    }
    return Object.keys(out).length > 0 ? out : null;
  } catch (err) {
    console.warn(`anchors failed (${err.message.split('\n')[0]}); ratios are left out`);
    return null;
  }
}

/**
 * order-tx.mjs beside run.sh: MariaDB's own rate for the statements one
 * POST /orders runs, one transaction each from `connections` raw mysql2
 * connections against `databaseUrl` (a scratch database the project
 * migrated: it adds 100 products and leaves its rows behind). It runs from a scratch folder that
 * borrows the repository's node_modules (mysql2), so nothing is installed.
 * { 'anchor-order-tx': { rps } }, or null when the script is absent or fails.
 */
export async function runOrderTx(repoRoot, databaseUrl, seconds, connections = 16) {
  const script = join(dirname(anchorsScript(repoRoot)), 'order-tx.mjs');
  if (!existsSync(script)) {
    console.warn(`anchors: ${script} not found; the order ratio is left out`);
    return null;
  }
  const work = join(tmpdir(), 'wx-mp-bench-order-tx');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  copyFileSync(script, join(work, 'order-tx.mjs'));
  symlinkSync(join(repoRoot, 'node_modules'), join(work, 'node_modules'), 'dir');
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(work, 'order-tx.mjs'), databaseUrl, String(seconds), String(connections)],
      { encoding: 'utf8', timeout: (seconds + 60) * 1000 },
    );
    const m = /^(anchor-order-tx)\s+([\d.]+) tx\/s/m.exec(stdout);
    return m ? { [m[1]]: { rps: Number(m[2]) } } : null;
  } catch (err) {
    console.warn(`order-tx failed (${err.message.split('\n')[0]}); the order ratio is left out`);
    return null;
  }
}
