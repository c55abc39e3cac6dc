import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

// Where the real test servers are. Tests may read the environment: only src/
// is bound to go through src/config.
export const TEST_MYSQL_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

export function uniqueSuffix(): string {
  return `${process.pid}_${randomBytes(4).toString('hex')}`;
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

/** Deletes every key under `prefix` on the test Redis (the cleanup of a spec's own keys). */
export async function dropRedisKeys(prefix: string): Promise<void> {
  const admin = new Redis(TEST_REDIS_URL);
  try {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  } finally {
    admin.disconnect();
  }
}
