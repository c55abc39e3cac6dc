import { DataSource } from 'typeorm';
import { useStack } from './helpers/stack.js';

function gauge(metrics: string, series: string): number {
  const escaped = series.replace(/[{}"=,]/g, (c) => `\\${c}`);
  const m = new RegExp(`^${escaped} (\\d+)$`, 'm').exec(metrics);
  if (!m) throw new Error(`no series ${series} in:\n${metrics.slice(0, 400)}`);
  return Number(m[1]);
}

describe('database pool gauges in /metrics', () => {
  // The same server as primary and "replica": the pools are distinct all the same.
  const stack = useStack({
    wechat: false,
    // Connection counts of the request path: no outbox relay polling beside it.
    env: (db) => ({ DATABASE_POOL_SIZE: '3', DATABASE_REPLICA_URLS: db.url, WORKER_MODE: 'http' }),
  });

  const scrape = async () => (await stack.app.http.get('/metrics')).text;

  it('counts connections in use, idle and callers waiting, per pool, at scrape time', async () => {
    const dataSource = stack.app.app.get(DataSource);
    // Five slow queries on a primary pool of three: three run, two wait.
    const slow = Array.from({ length: 5 }, () => dataSource.query('SELECT SLEEP(0.6)'));
    const replicaRunner = dataSource.createQueryRunner('slave');
    const onReplica = replicaRunner.query('SELECT SLEEP(0.6)');
    await new Promise((r) => setTimeout(r, 250));

    const busy = await scrape();
    expect(gauge(busy, 'db_pool_connections{pool="primary",state="in_use"}')).toBe(3);
    expect(gauge(busy, 'db_pool_waiting{pool="primary"}')).toBe(2);
    expect(gauge(busy, 'db_pool_connections{pool="replica1",state="in_use"}')).toBe(1);

    await Promise.all([...slow, onReplica]);
    await replicaRunner.release();
    const calm = await scrape();
    expect(gauge(calm, 'db_pool_connections{pool="primary",state="in_use"}')).toBe(0);
    expect(gauge(calm, 'db_pool_connections{pool="primary",state="idle"}')).toBe(3);
    expect(gauge(calm, 'db_pool_waiting{pool="primary"}')).toBe(0);
    expect(gauge(calm, 'db_pool_connections{pool="replica1",state="idle"}')).toBeGreaterThan(0);
  });
});
