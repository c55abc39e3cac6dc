import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { DataSource } from 'typeorm';

// mysql2 keeps its pool state in private queues and offers no stats API; these
// are the fields of lib/base/pool.js (mysql2 3.x) and lib/pool_cluster.js.
interface Mysql2Pool {
  _allConnections: { length: number };
  _freeConnections: { length: number };
  _connectionQueue: { length: number };
}

interface Mysql2PoolCluster {
  _nodes: Record<string, { pool: Mysql2Pool }>;
}

interface MysqlDriverPools {
  pool?: Mysql2Pool;
  poolCluster?: Mysql2PoolCluster;
}

export interface PoolStats {
  pool: string;
  inUse: number;
  idle: number;
  waiting: number;
}

/**
 * The connection pools of the data source by role: `primary`, `replica1`… in
 * the order of DATABASE_REPLICA_URLS (TypeORM names them MASTER, SLAVE0…).
 * Empty for the embedded engine, which has no pool.
 */
export function poolStats(dataSource: DataSource): PoolStats[] {
  const driver = dataSource.driver as unknown as MysqlDriverPools;
  const pools: [string, Mysql2Pool][] = [];
  if (driver.poolCluster) {
    for (const [id, node] of Object.entries(driver.poolCluster._nodes)) {
      const replica = /^SLAVE(\d+)$/.exec(id);
      pools.push([replica ? `replica${Number(replica[1]) + 1}` : 'primary', node.pool]);
    }
  } else if (driver.pool?._allConnections) {
    pools.push(['primary', driver.pool]);
  }
  return pools.map(([pool, p]) => ({
    pool,
    inUse: p._allConnections.length - p._freeConnections.length,
    idle: p._freeConnections.length,
    waiting: p._connectionQueue.length,
  }));
}

/**
 * `db_pool_connections{pool,state}` (in_use, idle) and `db_pool_waiting{pool}`
 * (callers queued for a connection), read from the pools when /metrics is
 * scraped: nothing is counted on the query path. Labels are bounded by the
 * number of configured databases.
 */
@Injectable()
export class PoolMetrics implements OnModuleInit {
  constructor(
    private readonly registry: Registry,
    private readonly dataSource: DataSource,
  ) {}

  onModuleInit(): void {
    const dataSource = this.dataSource;
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections by pool (primary, replicaN) and state (in_use, idle)',
      labelNames: ['pool', 'state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const s of poolStats(dataSource)) {
          this.set({ pool: s.pool, state: 'in_use' }, s.inUse);
          this.set({ pool: s.pool, state: 'idle' }, s.idle);
        }
      },
    });
    new Gauge({
      name: 'db_pool_waiting',
      help: 'Callers waiting for a database connection, by pool',
      labelNames: ['pool'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const s of poolStats(dataSource)) this.set({ pool: s.pool }, s.waiting);
      },
    });
  }
}
