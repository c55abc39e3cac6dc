import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { withRequestId } from '../../common/http/index.js';
import { SpanKind, contextOf, inSpan, tracing } from '../tracing/index.js';
import { Transactions, isDuplicateKey } from '../transactions/index.js';
import { OutboxEvent } from './outbox-event.entity.js';
import { ProcessedEvent } from './processed-event.entity.js';
import {
  DEFAULT_ATTEMPTS,
  WaitForEarlierEvent,
  toDeliveredEvent,
  type JobAttempt,
  type JobData,
} from './queue-driver.js';
import { QueueMetrics, type JobLogger } from './queue-metrics.js';
import { UnrecoverableJobError, type ConsumerDefinition } from './queue.types.js';

// An earlier event of the aggregate is usually being processed in another
// slot right now: the job polls for it a while, holding its slot, before it
// goes back to the queue (freeing the slot) for ORDER_REQUEUE_MS.
const ORDER_POLL_MS = 10;
const ORDER_POLL_LIMIT_MS = 2000;
const ORDER_REQUEUE_MS = 200;
/** Past this age an event stops waiting for its predecessors and fails like any error. */
const ORDER_WAIT_LIMIT_MS = 10 * 60_000;

class AlreadyProcessed extends Error {}

/**
 * Runs one delivery of an event to a consumer: in one transaction, the
 * processed-event record (a duplicate delivery stops there) and the
 * consumer's effect; events of one aggregate in commit order; the causing
 * request's id as the context of the job, and with tracing on, a span of
 * the job continuing the request's trace (its traceparent travels with the
 * event). Every attempt is timed; a failed one is one log line with the job
 * id and that request id.
 */
@Injectable()
export class ConsumerRunner {
  constructor(
    private readonly transactions: Transactions,
    private readonly metrics: QueueMetrics,
  ) {}

  processorFor(consumer: ConsumerDefinition, log: JobLogger) {
    const untraced = (data: JobData, attempt: JobAttempt) =>
      withRequestId(data.requestId ?? undefined, () => this.run(consumer, data, attempt, log));
    if (!tracing()) return untraced;
    return (data: JobData, attempt: JobAttempt) =>
      inSpan(
        `job ${consumer.name}`,
        {
          kind: SpanKind.CONSUMER,
          root: true,
          // Jobs queued before traces were kept have no traceparent: they start a trace.
          parent: contextOf((data as Partial<JobData>).traceparent),
          attributes: {
            'messaging.destination.name': consumer.name,
            'messaging.message.id': attempt.jobId,
            'job.attempt': attempt.attempt,
            'event.type': data.type,
          },
        },
        () => untraced(data, attempt),
      );
  }

  private async run(
    consumer: ConsumerDefinition,
    data: JobData,
    attempt: JobAttempt,
    log: JobLogger,
  ): Promise<void> {
    const started = performance.now();
    const event = toDeliveredEvent(data);
    const afterCommit: (() => Promise<void>)[] = [];
    const ordered = consumer.ordered !== false;
    try {
      // Redeliveries are cheap: one indexed read, no transaction.
      if (await this.processed(consumer, data)) throw new AlreadyProcessed();
      if (ordered) await this.pollForEarlier(consumer, data);
      await this.transactions.run(async (m) => {
        if (ordered && (await this.hasEarlierPending(m, consumer, data))) {
          const overdue = Date.now() - event.createdAt.getTime() > ORDER_WAIT_LIMIT_MS;
          if (!overdue) throw new WaitForEarlierEvent(ORDER_REQUEUE_MS);
          throw new Error('an earlier event of the aggregate is still unprocessed');
        }
        try {
          await m.insert(ProcessedEvent, { consumer: consumer.name, eventId: data.id });
        } catch (err) {
          if (isDuplicateKey(err)) throw new AlreadyProcessed();
          throw err;
        }
        await consumer.handle(event, m, (work) => afterCommit.push(work));
      });
      this.metrics.observe(consumer.name, 'completed', started);
      for (const work of afterCommit) {
        await work().catch((err: unknown) =>
          log.warn(
            {
              queue: consumer.name,
              jobId: attempt.jobId,
              requestId: data.requestId,
              error: String(err),
            },
            'job committed; its after-commit work failed',
          ),
        );
      }
    } catch (err) {
      if (err instanceof AlreadyProcessed) {
        this.metrics.observe(consumer.name, 'duplicate', started);
        return;
      }
      if (err instanceof WaitForEarlierEvent) throw err;
      const final =
        err instanceof UnrecoverableJobError ||
        attempt.attempt >= (consumer.attempts ?? DEFAULT_ATTEMPTS);
      this.metrics.observe(consumer.name, final ? 'dead_lettered' : 'retried', started);
      log.warn(
        {
          queue: consumer.name,
          jobId: attempt.jobId,
          eventType: data.type,
          attempt: attempt.attempt,
          requestId: data.requestId,
          final,
          error: err instanceof Error ? err.message : String(err),
        },
        final ? 'job failed; kept as a dead letter' : 'job attempt failed; will retry',
      );
      throw err;
    }
  }

  private async processed(consumer: ConsumerDefinition, data: JobData): Promise<boolean> {
    const row = await this.transactions.read((m) =>
      m.findOne(ProcessedEvent, {
        select: { eventId: true },
        where: { consumer: consumer.name, eventId: data.id },
      }),
    );
    return row !== null;
  }

  private async pollForEarlier(consumer: ConsumerDefinition, data: JobData): Promise<void> {
    const deadline = Date.now() + ORDER_POLL_LIMIT_MS;
    while (
      Date.now() < deadline &&
      (await this.transactions.read((m) => this.hasEarlierPending(m, consumer, data)))
    ) {
      await sleep(ORDER_POLL_MS);
    }
  }

  /** Is an earlier event of this aggregate, of a type this consumer takes, not processed by it yet? */
  private async hasEarlierPending(
    m: EntityManager,
    consumer: ConsumerDefinition,
    data: JobData,
  ): Promise<boolean> {
    const earlier = await m
      .createQueryBuilder(OutboxEvent, 'o')
      .select('o.id', 'id')
      .leftJoin(ProcessedEvent, 'p', 'p.consumer = :consumer AND p.event_id = o.id', {
        consumer: consumer.name,
      })
      .where('o.aggregate_type = :aggregateType AND o.aggregate_id = :aggregateId', data)
      .andWhere('o.id < :id AND o.type IN (:...types) AND p.event_id IS NULL', {
        id: data.id,
        types: consumer.events,
      })
      .limit(1)
      .getRawOne<{ id: number }>();
    return earlier !== undefined;
  }
}
