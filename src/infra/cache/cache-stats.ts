import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Plain counters bumped on the hot path (a field increment, no label
 * hashing); they are copied into Prometheus series only when /metrics is
 * scraped.
 */
export class CacheStats {
  l1Hits = 0;
  l2Hits = 0;
  misses = 0;
  staleServed = 0;
  loaderErrors = 0;
  l2Errors = 0;
  invalidationsSent = 0;
  invalidationsReceived = 0;
}

/** A Prometheus counter that catches up with `read()` on each scrape. */
function counterFrom(
  registry: Registry,
  name: string,
  help: string,
  series: Record<string, () => number>,
  labelName?: string,
): void {
  const reported = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames: labelName ? [labelName] : [],
    registers: [registry],
    collect() {
      for (const [label, read] of Object.entries(series)) {
        const now = read();
        const delta = now - (reported.get(label) ?? 0);
        if (delta > 0) {
          if (labelName) this.inc({ [labelName]: label }, delta);
          else this.inc(delta);
        }
        reported.set(label, now);
      }
    },
  });
}

export function registerCacheMetrics(
  registry: Registry,
  stats: CacheStats,
  l1Entries: () => number,
): void {
  counterFrom(
    registry,
    'cache_hits_total',
    'Cache hits by tier (l1: in process, l2: Redis)',
    { l1: () => stats.l1Hits, l2: () => stats.l2Hits },
    'tier',
  );
  const single = (name: string, help: string, read: () => number) =>
    counterFrom(registry, name, help, { total: read });
  single('cache_misses_total', 'Cache misses (the loader ran)', () => stats.misses);
  single(
    'cache_stale_served_total',
    'Stale values served within grace (refresh in flight, slow or failed loader)',
    () => stats.staleServed,
  );
  single('cache_loader_errors_total', 'Loader failures', () => stats.loaderErrors);
  single('cache_l2_errors_total', 'Failed L2 (Redis) operations', () => stats.l2Errors);
  single(
    'cache_invalidations_sent_total',
    'Invalidations published to other replicas',
    () => stats.invalidationsSent,
  );
  single(
    'cache_invalidations_received_total',
    'Invalidations received from other replicas',
    () => stats.invalidationsReceived,
  );
  new Gauge({
    name: 'cache_l1_entries',
    help: 'Entries in the in-process cache',
    registers: [registry],
    collect() {
      this.set(l1Entries());
    },
  });
}
