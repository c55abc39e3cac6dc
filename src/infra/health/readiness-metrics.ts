import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';

/**
 * What the last readiness probe answered, and how often the answer changed:
 * the orchestrator probes more often than Prometheus scrapes, so flapping
 * between scrapes shows in the counter even when the gauge looks steady.
 */
@Injectable()
export class ReadinessMetrics {
  private readonly ready: Gauge;
  private readonly transitions: Counter;
  private last: boolean | undefined;

  constructor(registry: Registry) {
    this.ready = new Gauge({
      name: 'health_ready',
      help: 'Answer of the last GET /health/ready: 1 ready, 0 not ready (503)',
      registers: [registry],
    });
    this.transitions = new Counter({
      name: 'health_ready_transitions_total',
      help: 'Times GET /health/ready changed its answer (ready to not ready or back)',
      registers: [registry],
    });
  }

  observe(ready: boolean): void {
    if (this.last !== undefined && this.last !== ready) this.transitions.inc();
    this.last = ready;
    this.ready.set(ready ? 1 : 0);
  }
}
