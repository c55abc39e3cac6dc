// The staff console's build (docs/console.md): `npm run build` runs it after
// `nest build` and writes dist/console, which the server serves at /console/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  // The server's CSP has no 'unsafe-inline': Vite's modulepreload polyfill is
  // an inline script, and a build without it emits none.
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    // No data: URLs for assets either (fonts, images): every file is 'self'.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
