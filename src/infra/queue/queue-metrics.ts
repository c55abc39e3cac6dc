import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { readOutboxBacklog } from './outbox-backlog.js';
import type { QueueDriver } from './queue-driver.js';

/** Where a failed attempt's line goes (the app's pino logger). */
export interface JobLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

export type JobOutcome = 'completed' | 'duplicate' | 'retried' | 'dead_lettered';

const STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/**
 * Queue series in /metrics: job duration by queue and outcome and retries
 * per queue (counted as jobs run), plus, read on scrape, the outbox backlog,
 * the age of its oldest unpublished event and each queue's job counts.
 */
@Injectable()
export class QueueMetrics {
  private readonly duration: Histogram<'queue' | 'outcome'>;
  private readonly retries: Counter<'queue'>;

  constructor(
    private readonly registry: Registry,
    private readonly dataSource: DataSource,
  ) {
    this.duration = new Histogram({
      name: 'queue_job_duration_seconds',
      help: 'Time of one job attempt, by queue and outcome (completed, duplicate, retried, dead_lettered)',
      labelNames: ['queue', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.retries = new Counter({
      name: 'queue_job_retries_total',
      help: 'Failed job attempts that will be retried, by queue',
      labelNames: ['queue'] as const,
      registers: [registry],
    });
  }

  observe(queue: string, outcome: JobOutcome, startedAt: number): void {
    this.duration.observe({ queue, outcome }, (performance.now() - startedAt) / 1000);
    if (outcome === 'retried') this.retries.inc({ queue });
  }

  /**
   * The gauges read on scrape (outbox backlog and age, per-queue job counts),
   * registered where jobs run: an http replica's scrape costs no query.
   */
  watchQueues(driver: QueueDriver, queues: readonly string[]): void {
    const registry = this.registry;
    const dataSource = this.dataSource;
    // Both outbox gauges come from one query per scrape.
    let reading: Promise<{ backlog: number; oldestAgeS: number } | undefined> | undefined;
    let readAt = 0;
    const readOutbox = () => {
      if (!reading || Date.now() - readAt > 500) {
        readAt = Date.now();
        reading = readOutboxBacklog(dataSource)
          .then(({ unpublished, oldestAt }) => ({
            backlog: unpublished,
            oldestAgeS: oldestAt ? Math.max(0, (Date.now() - oldestAt.getTime()) / 1000) : 0,
          }))
          // A database outage leaves the gauges unset rather than failing the scrape.
          .catch(() => undefined);
      }
      return reading;
    };
    new Gauge({
      name: 'outbox_backlog',
      help: 'Outbox events not yet published to the queues',
      registers: [registry],
      async collect() {
        const outbox = await readOutbox();
        if (outbox) this.set(outbox.backlog);
      },
    });
    new Gauge({
      name: 'outbox_oldest_unpublished_age_seconds',
      help: 'Age of the oldest unpublished outbox event (0 when none)',
      registers: [registry],
      async collect() {
        const outbox = await readOutbox();
        if (outbox) this.set(outbox.oldestAgeS);
      },
    });

    new Gauge({
      name: 'queue_jobs',
      help: 'Jobs by queue and state (waiting, active, delayed, failed = dead letters)',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        const counts = await Promise.all(
          queues.map((q) => driver.counts(q).catch(() => undefined)),
        );
        this.reset();
        queues.forEach((queue, i) => {
          const c = counts[i];
          if (!c) return;
          for (const state of STATES) this.set({ queue, state }, c[state]);
        });
      },
    });
  }
}
