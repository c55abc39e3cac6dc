import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type AdmissionResult =
  'admitted' | 'replayed' | 'not_live' | 'limit' | 'sold_out' | 'from_memory';

/** Flash-sale counters in /metrics. Children are bound once: the admission path is hot. */
export class FlashMetrics {
  private readonly admissions: Record<AdmissionResult, Counter.Internal>;
  readonly ordersWritten: Counter;
  readonly ticketsFailed: Counter;
  readonly batchSeconds: Histogram;
  readonly reconcileDifference: Gauge;
  readonly reconcileMismatches: Counter;

  constructor(registry: Registry) {
    const admissions = new Counter({
      name: 'flash_admissions_total',
      help: 'Flash-sale buy requests by outcome (from_memory: refused without asking Redis)',
      labelNames: ['result'],
      registers: [registry],
    });
    this.admissions = {
      admitted: admissions.labels('admitted'),
      replayed: admissions.labels('replayed'),
      not_live: admissions.labels('not_live'),
      limit: admissions.labels('limit'),
      sold_out: admissions.labels('sold_out'),
      from_memory: admissions.labels('from_memory'),
    };
    this.ordersWritten = new Counter({
      name: 'flash_orders_written_total',
      help: 'Orders written from flash-sale admissions',
      registers: [registry],
    });
    this.ticketsFailed = new Counter({
      name: 'flash_tickets_failed_total',
      help: 'Admitted tickets that could not become an order (their units went back to the sale)',
      registers: [registry],
    });
    this.batchSeconds = new Histogram({
      name: 'flash_persist_batch_seconds',
      help: 'Time to write one batch of admissions (one transaction)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    this.reconcileDifference = new Gauge({
      name: 'flash_reconcile_difference_units',
      help: 'Units admitted in Redis minus units the database recorded, at the last reconciliation',
      registers: [registry],
    });
    this.reconcileMismatches = new Counter({
      name: 'flash_reconcile_mismatches_total',
      help: 'Reconciliations after a sale that found Redis and the database disagreeing',
      registers: [registry],
    });
  }

  admission(result: AdmissionResult): void {
    this.admissions[result].inc();
  }
}
