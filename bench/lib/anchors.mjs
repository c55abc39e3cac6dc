// Runs the shared hot-path anchors (bare Fastify and Gin, run.sh) in this run,
// so the project's figures can be read as ratios on the same, possibly busy, machine.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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
