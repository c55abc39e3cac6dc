import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { ModuleMetadata } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { Redis } from 'ioredis';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import { createApp } from '../../src/app.factory.js';
import { loadConfig, type AppConfig } from '../../src/config/index.js';
import { REDIS } from '../../src/infra/redis/index.js';
import { installContractCheck, loadContract, type ContractHook } from './contract.js';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  http: TestAgent;
  /** Every log line the app wrote, parsed. */
  logs: Record<string, unknown>[];
  /** The raw log output, to search for leaked secrets. */
  rawLogs(): string;
  redis(): Redis | null;
  /** The OpenAPI check of every answer (helpers/contract.ts); close() fails on a violation. */
  contract: ContractHook;
  close(): Promise<void>;
}

/** Boots the real AppModule on Fastify with the given environment. */
export async function startTestApp(
  env: Record<string, string | undefined>,
  options: { imports?: ModuleMetadata['imports']; spanExporter?: SpanExporter } = {},
): Promise<TestApp> {
  const config = loadConfig(env);
  const chunks: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const { app } = await createApp(config, {
    logDestination,
    imports: options.imports,
    spanExporter: options.spanExporter,
  });
  const contract = installContractCheck(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  await loadContract(app, contract);
  return {
    app,
    config,
    http: request(app.getHttpServer()),
    rawLogs: () => chunks.join(''),
    redis: () => app.get<Redis | null>(REDIS),
    get logs() {
      return chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim().length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    contract,
    close: async () => {
      await app.close();
      const violations = contract.checker?.violations ?? [];
      if (violations.length > 0) {
        throw new Error(`answers the OpenAPI document does not allow:\n${violations.join('\n')}`);
      }
    },
  };
}

/**
 * The app in the embedded mode (no DATABASE_URL, no REDIS_URL) on a better-sqlite3 file
 * in a new temporary folder, which close() removes.
 */
export async function startEmbeddedTestApp(
  env: Record<string, string | undefined>,
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'mp-embedded-'));
  try {
    const t = await startTestApp({ ...env, EMBEDDED_DB_PATH: join(dir, 'db.sqlite') });
    return {
      ...t,
      close: async () => {
        await t.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
