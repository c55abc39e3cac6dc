import type { ConsumerDefinition, DeliveredEvent } from './queue.types.js';

/** An event as it travels in a job: dates as ISO strings. */
export interface JobData {
  id: number;
  type: string;
  aggregateType: string;
  aggregateId: string;
  payload: Record<string, unknown>;
  requestId: string | null;
  /** W3C traceparent of the span that wrote the event (null when tracing was off). */
  traceparent: string | null;
  createdAt: string;
}

/** `e<event id>`: BullMQ refuses integer-like custom job ids. */
export const jobIdOf = (eventId: number): string => `e${eventId}`;

export interface JobToAdd {
  /** `jobIdOf(event id)`: adding a job whose id the queue still holds changes nothing. */
  id: string;
  data: JobData;
  delayMs: number;
}

export interface JobAttempt {
  jobId: string;
  /** 1 for the first run. */
  attempt: number;
}

/** What a worker runs per job; its promise settles the attempt. */
export type JobProcessor = (data: JobData, attempt: JobAttempt) => Promise<void>;

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

/** A job that used up its attempts (or failed unrecoverably), kept until retried. */
export interface DeadLetter {
  jobId: string;
  event: Omit<JobData, 'payload'>;
  attempts: number;
  failedReason: string;
  failedAt: string | null;
}

/**
 * Thrown by a processor when an earlier event of the same aggregate is not
 * processed yet: the job goes back to wait `delayMs` without using an attempt.
 */
export class WaitForEarlierEvent extends Error {
  override name = 'WaitForEarlierEvent';
  constructor(readonly delayMs: number) {
    super('an earlier event of the aggregate is not processed yet');
  }
}

/**
 * A queue backend: BullMQ on Redis, or the in-process one of the embedded
 * mode. Same semantics: job ids dedupe, delays, attempts with exponential
 * jittered backoff, `UnrecoverableJobError` straight to the dead letters,
 * per-queue concurrency and rate limit.
 */
export interface QueueDriver {
  /** False when jobs live only in this process (lost on restart). */
  readonly durable: boolean;
  add(consumer: ConsumerDefinition, jobs: readonly JobToAdd[]): Promise<void>;
  startWorker(consumer: ConsumerDefinition, processor: JobProcessor): void;
  counts(queue: string): Promise<QueueCounts>;
  deadLetters(queue: string, limit: number): Promise<DeadLetter[]>;
  /** Puts a dead letter back to wait with fresh attempts; false when there is none of that id. */
  retry(queue: string, jobId: string): Promise<boolean>;
  /** Stops taking jobs and waits up to `timeoutMs` for active ones; unfinished ones are retried later. */
  stopWorkers(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export function toJobData(event: {
  id: number;
  type: string;
  aggregateType: string;
  aggregateId: string;
  payload: string;
  requestId: string | null;
  traceparent: string | null;
  createdAt: Date;
}): JobData {
  return {
    id: event.id,
    type: event.type,
    aggregateType: event.aggregateType,
    aggregateId: event.aggregateId,
    payload: JSON.parse(event.payload) as Record<string, unknown>,
    requestId: event.requestId,
    traceparent: event.traceparent,
    createdAt: event.createdAt.toISOString(),
  };
}

export function toDeliveredEvent(data: JobData): DeliveredEvent {
  return { ...data, createdAt: new Date(data.createdAt) };
}

/** Share of a retry delay left to chance, so jobs that failed together do not retry together. */
export const BACKOFF_JITTER = 0.5;

/**
 * The delay after failed attempt `attempt`: doubling from `baseMs`, minus up
 * to BACKOFF_JITTER of it at random (BullMQ's exponential backoff with jitter).
 */
export function backoffDelay(baseMs: number, attempt: number, random = Math.random): number {
  const exponential = baseMs * 2 ** (attempt - 1);
  return Math.round(exponential * (1 - BACKOFF_JITTER * random()));
}

export const DEFAULT_ATTEMPTS = 8;
export const DEFAULT_BACKOFF_MS = 1000;
