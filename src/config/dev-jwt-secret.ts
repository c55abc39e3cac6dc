import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, type AppConfig } from './app-config.js';

/** Name of the development JWT secret's file, beside the embedded database. */
export const DEV_JWT_SECRET_FILE = 'jwt-secret';

/**
 * Without JWT_SECRET the embedded quick start signs with a secret generated
 * once into its data folder (mode 0600), so a restart keeps the tokens it
 * issued valid. Only the server's entry point calls this: specs and tests that
 * load a config never write files. The secret is never logged; the returned
 * config names the file instead.
 */
export function withDevJwtSecret(config: AppConfig): AppConfig {
  if (!config.jwt.generated || config.database.kind !== 'embedded') return config;
  const file = join(dirname(config.database.path), DEV_JWT_SECRET_FILE);
  mkdirSync(dirname(file), { recursive: true });
  try {
    // 'wx': of two servers booting at once on one folder, one writes and both read it.
    writeFileSync(file, `${randomBytes(48).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // Tighten a file copied or created with a looser umask.
  chmodSync(file, 0o600);
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < 32)
    throw new ConfigError(
      `Invalid configuration: ${file} holds a JWT secret shorter than 32 characters; delete it to get a new one`,
    );
  return { ...config, jwt: { ...config.jwt, secret, generated: false, secretFile: file } };
}
