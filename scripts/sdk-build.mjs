// `npm run sdk:build`: the mini-program SDK as one minified ES module
// (sdk/dist/index.js) with its declarations (sdk/dist/*.d.ts), a copy for the
// example mini-program (examples/miniprogram/lib/), and its size, raw and gzipped.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = new URL('..', import.meta.url).pathname;
const out = join(ROOT, 'sdk/dist');
const bundle = join(out, 'index.js');

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: [join(ROOT, 'sdk/src/index.ts')],
  outfile: bundle,
  bundle: true,
  format: 'esm',
  // The oldest engines of supported WeChat base libraries (iOS 10 JavaScriptCore) stop at ES2017.
  target: 'es2017',
  minify: true,
  legalComments: 'none',
});
execFileSync(
  process.execPath,
  [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'sdk/tsconfig.json')],
  {
    stdio: 'inherit',
  },
);
const example = join(ROOT, 'examples/miniprogram/lib');
mkdirSync(example, { recursive: true });
copyFileSync(bundle, join(example, 'wx-mp-sdk.js'));

const code = readFileSync(bundle);
console.log(
  `sdk/dist/index.js: ${code.length} bytes minified, ${gzipSync(code, { level: 9 }).length} bytes gzipped`,
);
