import type { ModuleMetadata } from '@nestjs/common';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { startTestApp, type TestApp } from './app.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { baseEnv, dropRedisKeys, testRedisPrefix } from './env.js';
import { startFakeWechat, type FakeWechat } from './fake-wechat.js';

export interface StackOptions {
  /** Env of every app, on top of baseEnv (a function when it needs the database). */
  env?: Record<string, string> | ((db: TestDatabase) => Record<string, string>);
  /** App instances sharing the database and one Redis key prefix (default 1). */
  apps?: number;
  /** A fake WeChat the apps talk to (default true). */
  wechat?: boolean;
  imports?: ModuleMetadata['imports'];
  /** Tracing on, spans to this exporter (one app per process can trace). */
  spanExporter?: SpanExporter;
}

/** Filled in before the block's tests run: read the fields inside tests and hooks. */
export interface Stack {
  db: TestDatabase;
  wx: FakeWechat;
  apps: TestApp[];
  /** The first of `apps`. */
  app: TestApp;
}

/**
 * The usual e2e setup of a describe block: a fresh database, a fake WeChat
 * and the app instances on them, made before the block's tests and removed
 * after them, with the Redis keys they wrote. Further setup goes in the block's own beforeAll, which runs next.
 */
export function useStack(options: StackOptions = {}): Stack {
  const stack = { apps: [] as TestApp[] } as Stack;
  const redisPrefix = testRedisPrefix();
  beforeAll(async () => {
    stack.db = await createTestDatabase();
    if (options.wechat ?? true) stack.wx = await startFakeWechat();
    const extra = typeof options.env === 'function' ? options.env(stack.db) : options.env;
    const env = {
      ...baseEnv(stack.db.url, redisPrefix),
      ...(stack.wx ? { WECHAT_API_BASE_URL: stack.wx.url } : {}),
      ...extra,
    };
    for (let i = 0; i < (options.apps ?? 1); i++) {
      stack.apps.push(
        await startTestApp(env, { imports: options.imports, spanExporter: options.spanExporter }),
      );
    }
    stack.app = stack.apps[0];
  });
  afterAll(async () => {
    for (const app of stack.apps) await app.close();
    await stack.wx?.close();
    await stack.db?.drop();
    await dropRedisKeys(redisPrefix);
  });
  return stack;
}
