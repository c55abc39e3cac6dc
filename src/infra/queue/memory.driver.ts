import type {
  DeadLetter,
  JobData,
  JobProcessor,
  JobToAdd,
  QueueCounts,
  QueueDriver,
} from './queue-driver.js';
import {
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  WaitForEarlierEvent,
  backoffDelay,
} from './queue-driver.js';
import { UnrecoverableJobError, type ConsumerDefinition } from './queue.types.js';

interface MemoryJob {
  id: string;
  data: JobData;
  /** Attempts made so far. */
  attempts: number;
  failedReason?: string;
  failedAt?: Date;
}

class MemoryQueue {
  readonly waiting: MemoryJob[] = [];
  readonly delayed = new Map<string, { job: MemoryJob; timer: NodeJS.Timeout }>();
  readonly active = new Map<string, Promise<void>>();
  readonly failed = new Map<string, MemoryJob>();
  processor?: JobProcessor;
  stopped = false;
  /** Start times inside the rate limiter's window. */
  private starts: number[] = [];
  private limitTimer?: NodeJS.Timeout;

  constructor(readonly consumer: ConsumerDefinition) {}

  has(id: string): boolean {
    return (
      this.active.has(id) ||
      this.delayed.has(id) ||
      this.failed.has(id) ||
      this.waiting.some((j) => j.id === id)
    );
  }

  enqueue(job: MemoryJob, delayMs: number): void {
    if (delayMs > 0) {
      const timer = setTimeout(() => {
        this.delayed.delete(job.id);
        this.waiting.push(job);
        this.pump();
      }, delayMs);
      timer.unref();
      this.delayed.set(job.id, { job, timer });
      return;
    }
    this.waiting.push(job);
    this.pump();
  }

  pump(): void {
    const processor = this.processor;
    if (!processor || this.stopped) return;
    const concurrency = this.consumer.concurrency ?? 1;
    while (this.waiting.length > 0 && this.active.size < concurrency && this.mayStart()) {
      const job = this.waiting.shift() as MemoryJob;
      const run = this.runOnce(job, processor).finally(() => {
        this.active.delete(job.id);
        this.pump();
      });
      this.active.set(job.id, run);
    }
  }

  private mayStart(): boolean {
    const limit = this.consumer.rateLimit;
    if (!limit) return true;
    const now = Date.now();
    this.starts = this.starts.filter((t) => now - t < limit.durationMs);
    if (this.starts.length < limit.max) {
      this.starts.push(now);
      return true;
    }
    if (!this.limitTimer) {
      this.limitTimer = setTimeout(
        () => {
          this.limitTimer = undefined;
          this.pump();
        },
        limit.durationMs - (now - this.starts[0]),
      );
      this.limitTimer.unref();
    }
    return false;
  }

  private async runOnce(job: MemoryJob, processor: JobProcessor): Promise<void> {
    try {
      await processor(job.data, { jobId: job.id, attempt: job.attempts + 1 });
    } catch (err) {
      if (err instanceof WaitForEarlierEvent) {
        this.enqueue(job, err.delayMs);
        return;
      }
      job.attempts += 1;
      const attempts = this.consumer.attempts ?? DEFAULT_ATTEMPTS;
      if (err instanceof UnrecoverableJobError || job.attempts >= attempts) {
        job.failedReason = err instanceof Error ? err.message : String(err);
        job.failedAt = new Date();
        this.failed.set(job.id, job);
        return;
      }
      this.enqueue(job, backoffDelay(this.consumer.backoffMs ?? DEFAULT_BACKOFF_MS, job.attempts));
      return;
    }
  }

  clearTimers(): void {
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    if (this.limitTimer) clearTimeout(this.limitTimer);
  }
}

/**
 * The queue of the embedded mode (no Redis): the same semantics as BullMQ in
 * this process. Jobs are not durable; the relay republishes what a restart
 * lost (see OutboxRelay) and consumers skip what they already processed.
 */
export class MemoryQueueDriver implements QueueDriver {
  readonly durable = false;
  private readonly queues = new Map<string, MemoryQueue>();

  private queue(consumer: ConsumerDefinition): MemoryQueue {
    let queue = this.queues.get(consumer.name);
    if (!queue) {
      queue = new MemoryQueue(consumer);
      this.queues.set(consumer.name, queue);
    }
    return queue;
  }

  add(consumer: ConsumerDefinition, jobs: readonly JobToAdd[]): Promise<void> {
    const queue = this.queue(consumer);
    for (const job of jobs) {
      if (queue.has(job.id)) continue;
      queue.enqueue({ id: job.id, data: job.data, attempts: 0 }, job.delayMs);
    }
    return Promise.resolve();
  }

  startWorker(consumer: ConsumerDefinition, processor: JobProcessor): void {
    const queue = this.queue(consumer);
    queue.processor = processor;
    queue.pump();
  }

  counts(name: string): Promise<QueueCounts> {
    const q = this.queues.get(name);
    return Promise.resolve({
      waiting: q?.waiting.length ?? 0,
      active: q?.active.size ?? 0,
      delayed: q?.delayed.size ?? 0,
      failed: q?.failed.size ?? 0,
    });
  }

  deadLetters(name: string, limit: number): Promise<DeadLetter[]> {
    const failed = [...(this.queues.get(name)?.failed.values() ?? [])];
    return Promise.resolve(
      failed.slice(0, limit).map((job) => {
        const { payload: _payload, ...event } = job.data;
        return {
          jobId: job.id,
          event,
          attempts: job.attempts,
          failedReason: job.failedReason ?? '',
          failedAt: job.failedAt?.toISOString() ?? null,
        };
      }),
    );
  }

  retry(name: string, jobId: string): Promise<boolean> {
    const queue = this.queues.get(name);
    const job = queue?.failed.get(jobId);
    if (!queue || !job) return Promise.resolve(false);
    queue.failed.delete(jobId);
    job.attempts = 0;
    queue.enqueue(job, 0);
    return Promise.resolve(true);
  }

  async stopWorkers(timeoutMs: number): Promise<void> {
    const active: Promise<void>[] = [];
    for (const queue of this.queues.values()) {
      queue.stopped = true;
      queue.clearTimers();
      active.push(...queue.active.values());
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(active),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  close(): Promise<void> {
    for (const queue of this.queues.values()) queue.clearTimers();
    return Promise.resolve();
  }
}
