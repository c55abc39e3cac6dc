import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { REDIS, type RedisClient } from '../redis/index.js';
import { Transactions } from '../transactions/index.js';
import { ConsumerRegistry } from './consumer.registry.js';
import { ConsumerRunner } from './consumer.runner.js';
import { OutboxRelay } from './outbox.relay.js';
import { QueueMetrics, type JobLogger } from './queue-metrics.js';
import { QUEUE_DRIVER } from './queue.tokens.js';
import type { QueueDriver } from './queue-driver.js';
import type { PeriodicTask } from './queue.types.js';

/**
 * Starts the background side where WORKER_MODE is `worker` or `all`: one
 * worker per registered consumer, the outbox relay and the periodic tasks.
 * On shutdown they stop taking work and active jobs get most of
 * SHUTDOWN_TIMEOUT_MS to finish (the rest is for closing DB and Redis); a job
 * cut off keeps its lock until it expires and then runs again elsewhere.
 */
@Injectable()
export class QueueRuntime
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private relay?: OutboxRelay;
  private readonly timers = new Map<PeriodicTask, NodeJS.Timeout>();
  private readonly runningTasks = new Set<Promise<void>>();
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(QUEUE_DRIVER) private readonly driver: QueueDriver,
    @Inject(REDIS) private readonly redis: RedisClient | null,
    private readonly registry: ConsumerRegistry,
    private readonly runner: ConsumerRunner,
    private readonly metrics: QueueMetrics,
    private readonly transactions: Transactions,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  get runsJobs(): boolean {
    return this.config.workerMode !== 'http';
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.runsJobs) return;
    const log = this.logger();
    const consumers = this.registry.all();
    for (const consumer of consumers) {
      this.driver.startWorker(consumer, this.runner.processorFor(consumer, log));
    }
    this.metrics.watchQueues(
      this.driver,
      consumers.map((c) => c.name),
    );
    this.relay = new OutboxRelay(this.transactions, this.registry, this.driver, {
      pollMs: this.config.queue.outboxPollMs,
      retentionS: this.config.queue.outboxRetentionS,
      redis: this.redis,
      log,
    });
    await this.relay.start();
    for (const task of this.registry.tasks()) this.scheduleTask(task, log);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    await this.relay?.stop();
    await Promise.allSettled(this.runningTasks);
    if (this.runsJobs) await this.driver.stopWorkers(this.config.shutdown.timeoutMs * 0.8);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.driver.close();
  }

  private scheduleTask(task: PeriodicTask, log: JobLogger): void {
    if (this.stopping) return;
    const timer = setTimeout(() => {
      const run = task
        .run()
        .catch((err: unknown) =>
          log.warn(
            { task: task.name, error: err instanceof Error ? err.message : String(err) },
            'periodic task failed; it runs again on schedule',
          ),
        )
        .finally(() => {
          this.runningTasks.delete(run);
          this.scheduleTask(task, log);
        });
      this.runningTasks.add(run);
    }, task.everyMs);
    timer.unref();
    this.timers.set(task, timer);
  }

  private logger(): JobLogger {
    return this.adapterHost.httpAdapter.getInstance<FastifyInstance>().log;
  }
}
