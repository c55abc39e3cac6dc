import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError, Queue, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import type {
  DeadLetter,
  JobData,
  JobProcessor,
  JobToAdd,
  QueueCounts,
  QueueDriver,
} from './queue-driver.js';
import {
  BACKOFF_JITTER,
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  WaitForEarlierEvent,
} from './queue-driver.js';
import { UnrecoverableJobError, type ConsumerDefinition } from './queue.types.js';

export interface BullmqDriverOptions {
  /**
   * BullMQ's own connections (never the app's shared client): for producers
   * (fail fast while Redis is away), and for workers (block, retry for ever).
   * ioredis options, or a Cluster instance on Redis Cluster.
   */
  connection: ConnectionOptions;
  workerConnection: ConnectionOptions;
  /** Key prefix of every queue: the app's REDIS_KEY_PREFIX + `bull`. */
  prefix: string;
  /** How long a worker's lock on a job lasts unrenewed: after a crash, the job runs again after this. */
  lockMs: number;
}

// Completed jobs are kept a while so that a republished event finds its job
// id taken; processed-event records catch later duplicates.
const KEEP_COMPLETED = { age: 3600, count: 10_000 };

/**
 * BullMQ queues on the app's Redis under their own prefix: one queue per
 * consumer, job id = event id. Producers fail fast while Redis is away (the
 * relay keeps the events and tries again); workers block on connections of
 * their own with `maxRetriesPerRequest: null`, as BullMQ requires.
 */
export class BullmqQueueDriver implements QueueDriver {
  readonly durable = true;
  private readonly queues = new Map<string, Queue>();
  private readonly workers: Worker[] = [];
  /** Jobs running in this process, so a shutdown waits for them only. */
  private active = 0;

  constructor(private readonly options: BullmqDriverOptions) {}

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: this.options.connection,
        prefix: this.options.prefix,
      });
      // Errors reach the callers of add/counts; the emitter must not throw them again.
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }

  async add(consumer: ConsumerDefinition, jobs: readonly JobToAdd[]): Promise<void> {
    await this.queue(consumer.name).addBulk(
      jobs.map((job) => ({
        name: job.data.type,
        data: job.data,
        opts: {
          jobId: job.id,
          delay: job.delayMs > 0 ? job.delayMs : undefined,
          attempts: consumer.attempts ?? DEFAULT_ATTEMPTS,
          backoff: {
            type: 'exponential',
            delay: consumer.backoffMs ?? DEFAULT_BACKOFF_MS,
            jitter: BACKOFF_JITTER,
          },
          removeOnComplete: KEEP_COMPLETED,
          // Failed jobs are the dead letters: kept until an operator retries them.
          removeOnFail: false,
        },
      })),
    );
  }

  startWorker(consumer: ConsumerDefinition, processor: JobProcessor): void {
    const worker = new Worker<JobData>(
      consumer.name,
      async (job, token) => {
        this.active++;
        try {
          await processor(job.data, { jobId: String(job.id), attempt: job.attemptsMade + 1 });
        } catch (err) {
          if (err instanceof WaitForEarlierEvent) {
            await job.moveToDelayed(Date.now() + err.delayMs, token);
            throw new DelayedError();
          }
          if (err instanceof UnrecoverableJobError) throw new UnrecoverableError(err.message);
          throw err;
        } finally {
          this.active--;
        }
      },
      {
        connection: this.options.workerConnection,
        prefix: this.options.prefix,
        concurrency: consumer.concurrency ?? 1,
        limiter: consumer.rateLimit
          ? { max: consumer.rateLimit.max, duration: consumer.rateLimit.durationMs }
          : undefined,
        lockDuration: this.options.lockMs,
        stalledInterval: this.options.lockMs,
        // A job whose worker died is retried, not failed, however often that happens.
        maxStalledCount: 100,
      },
    );
    worker.on('error', () => undefined);
    this.workers.push(worker);
  }

  async counts(name: string): Promise<QueueCounts> {
    const c = await this.queue(name).getJobCounts('waiting', 'active', 'delayed', 'failed');
    return {
      waiting: c.waiting ?? 0,
      active: c.active ?? 0,
      delayed: c.delayed ?? 0,
      failed: c.failed ?? 0,
    };
  }

  async deadLetters(name: string, limit: number): Promise<DeadLetter[]> {
    const jobs = await this.queue(name).getFailed(0, limit - 1);
    return jobs.map((job) => {
      const { payload: _payload, ...event } = job.data as Partial<JobData> & JobData;
      return {
        jobId: String(job.id),
        // Jobs queued before traces were kept have no traceparent.
        event: { ...event, traceparent: event.traceparent ?? null },
        attempts: job.attemptsMade,
        failedReason: job.failedReason ?? '',
        failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
      };
    });
  }

  async retry(name: string, jobId: string): Promise<boolean> {
    const job = await this.queue(name).getJob(jobId);
    if (!job || !(await job.isFailed())) return false;
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return true;
  }

  async stopWorkers(timeoutMs: number): Promise<void> {
    // close() stops fetching at once and resolves when active jobs are done
    // and Redis said goodbye; with Redis away it may never resolve, so the
    // wait is for this process's active jobs, bounded by timeoutMs.
    const closing = this.workers.map((w) => w.close().catch(() => undefined));
    const deadline = Date.now() + timeoutMs;
    while (this.active > 0 && Date.now() < deadline) await sleep(20);
    await settleWithin(Promise.all(closing), CLOSE_GRACE_MS);
    // Jobs still running keep their lock until it expires; then another worker retries them.
    await Promise.all(
      this.workers.map((w) =>
        settleWithin(
          w.close(true).catch(() => undefined),
          CLOSE_GRACE_MS,
        ),
      ),
    );
    await Promise.all(
      this.workers.map((w) =>
        settleWithin(
          w.disconnect().catch(() => undefined),
          CLOSE_GRACE_MS,
        ),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.queues.values()].map(async (q) => {
        if (
          !(await settleWithin(
            q.close().catch(() => undefined),
            CLOSE_GRACE_MS,
          ))
        ) {
          await q.disconnect().catch(() => undefined);
        }
      }),
    );
    // A client instance (Redis Cluster) is the caller's: BullMQ leaves it open.
    for (const c of [this.options.connection, this.options.workerConnection]) {
      if (isInstance(c)) c.disconnect();
    }
  }
}

const CLOSE_GRACE_MS = 1000;

function isInstance(c: ConnectionOptions): c is ConnectionOptions & { disconnect(): void } {
  return typeof (c as { disconnect?: unknown }).disconnect === 'function';
}

/** Waits for `work` at most `ms`; true when it settled in time. */
async function settleWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    work.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return settled;
}
