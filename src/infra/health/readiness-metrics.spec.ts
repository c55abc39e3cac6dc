import { Registry } from 'prom-client';
import { ReadinessMetrics } from './readiness-metrics.js';

async function read(registry: Registry) {
  const [ready, transitions] = await Promise.all(
    ['health_ready', 'health_ready_transitions_total'].map(async (name) => {
      const metric = await registry.getSingleMetric(name)!.get();
      return metric.values[0]?.value;
    }),
  );
  return { ready, transitions };
}

describe('ReadinessMetrics', () => {
  it('gauges the last answer and counts each change of it, not each probe', async () => {
    const registry = new Registry();
    const readiness = new ReadinessMetrics(registry);
    readiness.observe(true);
    readiness.observe(true);
    expect(await read(registry)).toEqual({ ready: 1, transitions: 0 });
    readiness.observe(false);
    readiness.observe(false);
    expect(await read(registry)).toEqual({ ready: 0, transitions: 1 });
    readiness.observe(true);
    expect(await read(registry)).toEqual({ ready: 1, transitions: 2 });
  });

  it('does not count the first answer as a change (a replica starting not ready)', async () => {
    const registry = new Registry();
    new ReadinessMetrics(registry).observe(false);
    expect(await read(registry)).toEqual({ ready: 0, transitions: 0 });
  });
});
