import type { EntityManager } from 'typeorm';

/** An event to append to the outbox, inside the transaction of its state change. */
export interface NewEvent<P extends object = object> {
  /** `order.placed`, `user.registered`…: what consumers subscribe to. */
  type: string;
  /** `order`, `user`…: events of one aggregate reach each consumer in commit order. */
  aggregateType: string;
  aggregateId: string | number;
  payload: P;
}

/** An event as a consumer receives it. */
export interface DeliveredEvent<P = Record<string, unknown>> {
  id: number;
  type: string;
  aggregateType: string;
  aggregateId: string;
  payload: P;
  /** X-Request-Id of the request that caused the event (null for jobs and sweeps). */
  requestId: string | null;
  createdAt: Date;
}

/**
 * A consumer: one queue of its own, fed by the relay with every event of the
 * types it names. Registered with `ConsumerRegistry.register` in the owning
 * module's `onModuleInit`; it runs only where WORKER_MODE is `worker` or `all`.
 */
export interface ConsumerDefinition<P = Record<string, unknown>> {
  /**
   * Queue name and processed-event record name, `[a-z0-9.-]{1,64}`
   * (`orders.payment-timeout`). Never rename one in use: its processed records
   * and dead letters are kept under it.
   */
  name: string;
  events: readonly string[];
  /** Jobs of this queue run at once per worker process (default 1). */
  concurrency?: number;
  /** At most `max` jobs per `durationMs` across every worker (WeChat's per-minute quotas). */
  rateLimit?: { max: number; durationMs: number };
  /** Attempts before the job becomes a dead letter (default 8). */
  attempts?: number;
  /** First retry delay; each retry doubles it, with jitter (default 1000 ms). */
  backoffMs?: number;
  /**
   * Whether each event waits until this consumer has processed the earlier
   * events of its aggregate (default true). Turn it off for timers and other
   * consumers whose events of one aggregate are independent.
   */
  ordered?: boolean;
  /** How long after publication the job becomes due (a timer); at once by default. */
  delayMs?: (event: DeliveredEvent<P>) => number;
  /**
   * Applies the event. `manager` is the transaction that also records the
   * event as processed by this consumer, so database effects made through it
   * happen exactly once however often the event is delivered. An effect
   * outside the database (an HTTP call) may repeat and must be idempotent
   * itself. Throw `UnrecoverableJobError` when retrying cannot help (straight
   * to the dead letters); any other error is retried with backoff. Work that
   * must wait for the commit (a cache invalidation) goes to `afterCommit`.
   */
  handle(
    event: DeliveredEvent<P>,
    manager: EntityManager,
    afterCommit: (work: () => Promise<void>) => void,
  ): Promise<void>;
}

/**
 * Work a worker process repeats on a timer, e.g. a sweeper that catches what
 * a lost delayed job missed. Runs in every worker process: make it safe to
 * run concurrently (guarded UPDATEs).
 */
export interface PeriodicTask {
  name: string;
  everyMs: number;
  run(): Promise<void>;
}

/** A job that retrying cannot fix: it becomes a dead letter at once. */
export class UnrecoverableJobError extends Error {
  override name = 'UnrecoverableJobError';
}
