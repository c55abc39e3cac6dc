import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';

// Where the real test servers are. Tests may read the environment: only src/
// is bound to go through src/config.
export const TEST_MYSQL_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

export function uniqueSuffix(): string {
  return `${process.pid}_${randomBytes(4).toString('hex')}`;
}

// Every Redis key a test writes on the shared Redis lies under this test
// file's prefix, inside the run's prefix (test/redis-run.global-setup.ts):
// test/redis-file.setup.ts drops the file's keys after its last test, and the
// run fails if anything is left under the run's prefix at its end.
// (Made on first use: the global setup imports this module outside any test file.)
let filePrefix: string | undefined;

/** The prefix of every key this test file writes on the shared Redis. */
export function fileRedisPrefix(): string {
  filePrefix ??= `${inject('redisRunPrefix')}${randomBytes(2).toString('hex')}:`;
  return filePrefix;
}

/** A new key prefix for one app or client of this test file (removed with the file's keys). */
export function testRedisPrefix(): string {
  return `${fileRedisPrefix()}${randomBytes(4).toString('hex')}:`;
}

/** A full, valid environment for one app instance of a test file. */
export function baseEnv(databaseUrl: string, redisPrefix: string): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
    WECHAT_APPID: 'wx-test-appid',
    WECHAT_SECRET: 'wechat-test-secret-value',
    SHUTDOWN_DRAIN_MS: '0',
    // Every test client is 127.0.0.1: limits high enough for whole suites;
    // the throttle tests set their own.
    THROTTLE_DEFAULT_LIMIT: '100000',
    THROTTLE_LOGIN_LIMIT: '100000',
    THROTTLE_ORDERS_LIMIT: '100000',
  };
}

/** Every key under `prefix` on the test Redis (SCAN, never KEYS: the Redis is shared). */
export async function redisKeysUnder(prefix: string): Promise<string[]> {
  const admin = new Redis(TEST_REDIS_URL);
  try {
    const keys: string[] = [];
    for await (const batch of admin.scanStream({ match: `${prefix}*`, count: 1000 })) {
      keys.push(...(batch as string[]));
    }
    return keys;
  } finally {
    admin.disconnect();
  }
}

/** Deletes every key under `prefix` on the test Redis (the cleanup of a spec's own keys). */
export async function dropRedisKeys(prefix: string): Promise<void> {
  const keys = await redisKeysUnder(prefix);
  if (keys.length === 0) return;
  const admin = new Redis(TEST_REDIS_URL);
  try {
    for (let i = 0; i < keys.length; i += 500) await admin.unlink(...keys.slice(i, i + 500));
  } finally {
    admin.disconnect();
  }
}
