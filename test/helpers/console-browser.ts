import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import type { TestApp } from './app.js';

/**
 * The real staff console in a real browser: the console built by Vite into a
 * temporary CONSOLE_DIR, the app listening on 127.0.0.1, and Debian's
 * Chromium (never a downloaded one) driven by playwright-core.
 */

const root = new URL('../..', import.meta.url).pathname;
export const CHROMIUM = '/usr/bin/chromium';

/** Builds console/ into a new temporary directory and returns it. */
export async function buildConsole(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'mp-console-build-'));
  await promisify(execFile)(
    join(root, 'node_modules/.bin/vite'),
    [
      'build',
      '--config',
      'console/vite.config.ts',
      '--outDir',
      dir,
      '--emptyOutDir',
      '--logLevel',
      'warn',
    ],
    { cwd: root },
  );
  return dir;
}

/** The app on a real port of 127.0.0.1 (a browser needs one); returns its origin. */
export async function listen(app: TestApp): Promise<string> {
  await app.app.listen(0, '127.0.0.1');
  const address = app.app.getHttpServer().address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // CI runs as root, where Chromium's own sandbox cannot start.
    args: ['--no-sandbox'],
  });
}
