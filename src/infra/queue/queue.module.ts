import { Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { AppConfig } from '../../config/index.js';
import { bullConnection, bullPrefix } from './bull-connection.js';
import { BullmqQueueDriver } from './bullmq.driver.js';
import { ConsumerRegistry } from './consumer.registry.js';
import { ConsumerRunner } from './consumer.runner.js';
import { DeadLettersController } from './dead-letters.controller.js';
import { MemoryQueueDriver } from './memory.driver.js';
import { OutboxWriter } from './outbox.writer.js';
import { QueueMetrics } from './queue-metrics.js';
import { QueueRuntime } from './queue.runtime.js';
import { QUEUE_DRIVER } from './queue.tokens.js';
import { WorkerRoutesHook } from './worker-routes.hook.js';

/**
 * Asynchronous work: the outbox writer every domain uses inside its
 * transactions, the registry its consumers join, the queue driver (BullMQ
 * on BullMQ's own connections when Redis is configured, else in process), and the runtime that starts workers, relay and sweepers
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
          useFactory: () =>
            new BullmqQueueDriver({
              connection: bullConnection(redis, false),
              workerConnection: bullConnection(redis, true),
              // Same Redis, own keys: `<REDIS_KEY_PREFIX>bull:<queue>:…`.
              prefix: bullPrefix(redis),
              lockMs: config.queue.jobLockMs,
            }),
        }
      : { provide: QUEUE_DRIVER, useFactory: () => new MemoryQueueDriver() };
    return {
      module: QueueModule,
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
