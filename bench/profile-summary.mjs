#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node bench/run.mjs --profile=DIR`): self
// time by package and by function, so hot-path costs can be compared between runs.
//   node bench/profile-summary.mjs DIR/file.cpuprofile [top=25]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0));
}
// Percentages of busy time: idle samples (boot waits, gaps between runs) are left out.
const isIdle = (id) => byId.get(id).callFrame.functionName === '(idle)';
const total = [...self].reduce((a, [id, us]) => (isIdle(id) ? a : a + us), 0);
const where = (url) => {
  if (!url) return '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.includes('/dist/src/')) return `app:${url.split('/dist/src/')[1]}`;
  return url.startsWith('node:') ? url : '(other)';
};
const packages = new Map();
const functions = new Map();
for (const [id, us] of self) {
  if (isIdle(id)) continue;
  const { callFrame: f } = byId.get(id);
  const pkg = where(f.url);
  packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  const key = `${f.functionName || '(anonymous)'} ${pkg}:${f.lineNumber + 1}`;
  functions.set(key, (functions.get(key) ?? 0) + us);
}
const print = (title, map) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
};
print('self time by package', packages);
print('self time by function', functions);
