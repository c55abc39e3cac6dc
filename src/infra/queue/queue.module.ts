import { BullModule, getSharedConfigToken, type BullRootModuleOptions } from '@nestjs/bullmq';
import { Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { RedisOptions } from 'bullmq';
import type { AppConfig } from '../../config/index.js';
import { BullmqQueueDriver } from './bullmq.driver.js';
import { ConsumerRegistry } from './consumer.registry.js';
import { ConsumerRunner } from './consumer.runner.js';
import { DeadLettersController } from './dead-letters.controller.js';
import { MemoryQueueDriver } from './memory.driver.js';
import { OutboxWriter } from './outbox.writer.js';
import { QueueMetrics } from './queue.metrics.js';
import { QueueRuntime } from './queue.runtime.js';
import { QUEUE_DRIVER } from './queue.tokens.js';
import { WorkerRoutesHook } from './worker-routes.hook.js';

/** ioredis options of BullMQ's own connections, from REDIS_URL (no keyPrefix: BullMQ has `prefix`). */
function bullConnection(url: string): RedisOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    connectionName: 'bullmq',
  };
}

/**
 * Asynchronous work: the outbox writer every domain uses inside its
 * transactions, the registry its consumers join, the queue driver (BullMQ
 * through @nestjs/bullmq's shared configuration when Redis is configured,
 * else in process), and the runtime that starts workers, relay and sweepers
 * where WORKER_MODE asks for them.
 */
@Global()
@Module({})
export class QueueModule {
  static forRoot(config: AppConfig): DynamicModule {
    const redis = config.redis;
    const driver: Provider = redis
      ? {
          provide: QUEUE_DRIVER,
          inject: [getSharedConfigToken()],
          useFactory: (bull: BullRootModuleOptions) =>
            new BullmqQueueDriver({
              connection: bull.connection as RedisOptions,
              prefix: bull.prefix as string,
              lockMs: config.queue.jobLockMs,
            }),
        }
      : { provide: QUEUE_DRIVER, useFactory: () => new MemoryQueueDriver() };
    return {
      module: QueueModule,
      imports: redis
        ? [
            BullModule.forRoot({
              connection: bullConnection(redis.url),
              // Same Redis, own keys: `<REDIS_KEY_PREFIX>bull:<queue>:…`.
              prefix: `${redis.keyPrefix}bull`,
            }),
          ]
        : [],
      controllers: [DeadLettersController],
      providers: [
        driver,
        OutboxWriter,
        ConsumerRegistry,
        ConsumerRunner,
        QueueMetrics,
        QueueRuntime,
        WorkerRoutesHook,
      ],
      exports: [OutboxWriter, ConsumerRegistry],
    };
  }
}
