#!/usr/bin/env node
// `npm run console:build`: builds the staff console (console/, Vite) into
// dist/console, which the server serves at /console/ (docs/console.md). Run by
// `npm run build` after `nest build`, whose deleteOutDir would remove it.
// Without console/vite.config.ts (a checkout from before the console) there
// is nothing to build: it says so and succeeds, and /console/ answers 404.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const config = 'console/vite.config.ts';
if (!existsSync(`${root}/${config}`)) {
  console.log(`console:build: no ${config} in this checkout, nothing to build`);
  process.exit(0);
}
const vite = `${root}/node_modules/.bin/vite`;
if (!existsSync(vite)) {
  console.error('console:build: vite is not installed: run `npm ci` first');
  process.exit(1);
}
const run = spawnSync(vite, ['build', '--config', config, '--logLevel', 'warn'], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
