// `npm run sdk:build`: the mini-program SDK as one minified ES module
// (sdk/dist/index.js) with its declarations (sdk/dist/*.d.ts), a copy for the
// example mini-program (examples/miniprogram/lib/), and its size, raw and gzipped.
// test/sdk-bundle.e2e-spec.ts bundles it the same way, in memory.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = new URL('..', import.meta.url).pathname;

/** The SDK bundled as it ships: one minified ES module, as text. */
export async function bundleSdk() {
  const result = await build({
    entryPoints: [join(ROOT, 'sdk/src/index.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    // The oldest engines of supported WeChat base libraries (iOS 10 JavaScriptCore) stop at ES2017.
    target: 'es2017',
    minify: true,
    legalComments: 'none',
  });
  return result.outputFiles[0].text;
}

/** Bytes of the bundle as it is downloaded: raw and gzipped. */
export function sizeOf(code) {
  const raw = Buffer.from(code);
  return { raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = join(ROOT, 'sdk/dist');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const code = await bundleSdk();
  writeFileSync(join(out, 'index.js'), code);
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'sdk/tsconfig.json')], {
    stdio: 'inherit',
  });
  const example = join(ROOT, 'examples/miniprogram/lib');
  mkdirSync(example, { recursive: true });
  copyFileSync(join(out, 'index.js'), join(example, 'wx-mp-sdk.js'));
  const { raw, gzip } = sizeOf(code);
  console.log(`sdk/dist/index.js: ${raw} bytes minified, ${gzip} bytes gzipped`);
}
