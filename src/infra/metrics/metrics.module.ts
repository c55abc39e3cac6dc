import { Global, Module } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { HttpMetrics } from './http-metrics.js';

/**
 * One Prometheus registry per app instance (two instances in one test process
 * stay apart). Other modules inject `Registry` and add their own series.
 */
@Global()
@Module({
  providers: [
    {
      provide: Registry,
      useFactory: () => {
        const registry = new Registry();
        // Event-loop lag, heap, GC and CPU: computed on scrape, not per request.
        collectDefaultMetrics({ register: registry });
        return registry;
      },
    },
    HttpMetrics,
  ],
  exports: [Registry],
})
export class MetricsModule {}
