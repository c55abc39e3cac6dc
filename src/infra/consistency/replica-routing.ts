import type { EventEmitter } from 'node:events';
import { QueryFailedError, type DataSource, type QueryRunner, type ReplicationMode } from 'typeorm';
import { DeadlineExceededError } from '../../common/errors/index.js';
import type { ReadTarget } from './consistency.service.js';

/** Why a plain read went where it went (a metric label). */
export type RouteReason =
  'replica' | 'read_your_writes' | 'replica_unavailable' | 'replica_connection_lost';

export interface RoutingHooks {
  readTarget(): Promise<ReadTarget>;
  routed(target: ReadTarget, reason: RouteReason, err?: unknown): void;
  replicaState(replicaId: string, state: 'offline' | 'online'): void;
}

/** The part of TypeORM's MysqlDriver that replication goes through. */
interface ReplicatedDriver {
  isReplicated: boolean;
  poolCluster?: EventEmitter;
  obtainMasterConnection(): Promise<unknown>;
  obtainSlaveConnection(): Promise<unknown>;
  createQueryRunner(mode: ReplicationMode): QueryRunner;
}

// mysql2 marks errors that killed the connection as fatal.
const LOST = new Set(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

function connectionLost(err: unknown): boolean {
  if (!(err instanceof QueryFailedError)) return false;
  const driverError = err.driverError as { fatal?: boolean; code?: string } | undefined;
  return driverError?.fatal === true || LOST.has(driverError?.code ?? '');
}

/**
 * Hooks read routing into TypeORM where it decides it. TypeORM runs every
 * plain read (SelectQueryBuilder without a query runner: find*, count,
 * getMany...) on a query runner in `replication.defaultMode` ("slave"), whose
 * connect() calls `driver.obtainSlaveConnection()`; writes, raw
 * `dataSource.query` and transactions use "master" runners. Two things are
 * added there:
 * - read-your-writes: the slave connection is taken from the primary when
 *   `readTarget()` says so (async, so the marker lookup fits in);
 * - failover: mysql2's PoolCluster already retries the next replica and takes
 *   a failing one offline for `restoreNodeTimeout`, but when no replica is
 *   left it fails the read ("Pool does Not have online node"); such reads,
 *   and plain reads whose replica connection died mid-query (a killed
 *   replica), are run on the primary instead.
 * Returns false, changing nothing, when the data source has no replicas.
 */
export function installReplicaRouting(dataSource: DataSource, hooks: RoutingHooks): boolean {
  const driver = dataSource.driver as unknown as ReplicatedDriver;
  if (!driver.isReplicated) return false;

  const fromReplica = driver.obtainSlaveConnection.bind(driver);
  const fromPrimary = driver.obtainMasterConnection.bind(driver);
  driver.obtainSlaveConnection = async () => {
    if ((await hooks.readTarget()) === 'primary') {
      hooks.routed('primary', 'read_your_writes');
      return fromPrimary();
    }
    let connection: unknown;
    try {
      connection = await fromReplica();
    } catch (err) {
      // The request's budget ran out while it waited: the primary would not do better.
      if (err instanceof DeadlineExceededError) throw err;
      hooks.routed('primary', 'replica_unavailable', err);
      return fromPrimary();
    }
    hooks.routed('replica', 'replica');
    return connection;
  };

  const createQueryRunner = driver.createQueryRunner.bind(driver);
  driver.createQueryRunner = (mode) => {
    const runner = createQueryRunner(mode);
    if (mode === 'slave') retryLostReadsOnPrimary(runner, dataSource, hooks);
    return runner;
  };

  driver.poolCluster?.on('offline', (id: string) => hooks.replicaState(id, 'offline'));
  driver.poolCluster?.on('online', (id: string) => hooks.replicaState(id, 'online'));
  return true;
}

function retryLostReadsOnPrimary(
  runner: QueryRunner,
  dataSource: DataSource,
  hooks: RoutingHooks,
): void {
  const query = runner.query.bind(runner) as (...args: unknown[]) => Promise<unknown>;
  const retrying = async (sql: string, parameters?: unknown[], structured?: boolean) => {
    try {
      return await query(sql, parameters, structured);
    } catch (err) {
      // A slave runner only runs plain SELECTs, so running one again is safe.
      if (runner.isTransactionActive || !connectionLost(err)) throw err;
      hooks.routed('primary', 'replica_connection_lost', err);
      const primary = dataSource.createQueryRunner('master');
      const primaryQuery = primary.query.bind(primary) as typeof query;
      try {
        return await primaryQuery(sql, parameters, structured);
      } finally {
        await primary.release();
      }
    }
  };
  runner.query = retrying as QueryRunner['query'];
}
