import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig, RedisTopology } from '../../config/index.js';

/**
 * The app's Redis connection, whatever the topology: a `Redis` for one
 * server or a Sentinel-watched primary, a `Cluster` for Redis Cluster. Both
 * have the same command interface; the few places that must know (batches
 * split by slot, multi-key commands, BullMQ) ask `isCluster`.
 */
export type RedisClient = Redis | Cluster;

export function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}

/** Per-connection settings; the topology comes from the configuration. */
export interface ClientOptions {
  /** CLIENT SETNAME, shown by CLIENT LIST. */
  connectionName: string;
  /** REDIS_KEY_PREFIX for the app's keys; none for pub/sub (channels are prefixed by hand). */
  keyPrefix?: string;
  /** Fail at once while disconnected (callers fall back), or queue until connected. */
  offlineQueue: boolean;
  /** null: retry for ever (subscriber, BullMQ workers). */
  maxRetriesPerRequest: number | null;
  commandTimeoutMs?: number;
  lazyConnect?: boolean;
}

// After a Sentinel failover the old primary comes back as a replica: a
// connection that still points at it gets READONLY on writes. Reconnecting
// asks the sentinels for the current primary (and, 2, resends the command).
const reconnectOnReadOnly = (err: Error): 2 | false =>
  err.message.startsWith('READONLY') ? 2 : false;

function perConnection(o: ClientOptions): RedisOptions {
  return {
    connectionName: o.connectionName,
    maxRetriesPerRequest: o.maxRetriesPerRequest,
    commandTimeout: o.commandTimeoutMs,
    // Measured on loopback (bench/README): auto-pipelining costs more CPU per
    // command (8.8 vs 7.1 µs) than the syscalls it saves, and every request
    // pays for one command (the rate limit), so it stays off.
    enableAutoPipelining: false,
  };
}

/**
 * ioredis options of one connection to a single server or to the primary
 * behind Sentinel (everything but Redis Cluster, which is a `Cluster`).
 */
export function serverOptions(
  topology: Exclude<RedisTopology, { kind: 'cluster' }>,
  o: ClientOptions,
): RedisOptions {
  const base: RedisOptions = {
    ...perConnection(o),
    keyPrefix: o.keyPrefix,
    lazyConnect: o.lazyConnect ?? false,
    enableOfflineQueue: o.offlineQueue,
  };
  if (topology.kind === 'sentinel')
    return {
      ...base,
      sentinels: topology.sentinels,
      name: topology.name,
      username: topology.auth?.username,
      password: topology.auth?.password,
      sentinelPassword: topology.sentinelPassword,
      // Subscribes to the sentinels' +switch-master, so a failover moves
      // the connection at once rather than at the next failed command.
      failoverDetector: true,
      reconnectOnError: reconnectOnReadOnly,
    };
  const u = new URL(topology.url);
  return {
    ...base,
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

/** A Redis Cluster client on the configured seeds. */
export function clusterClient(
  topology: Extract<RedisTopology, { kind: 'cluster' }>,
  o: ClientOptions,
): Cluster {
  return new Cluster(topology.nodes, {
    keyPrefix: o.keyPrefix,
    lazyConnect: o.lazyConnect ?? false,
    enableOfflineQueue: o.offlineQueue,
    enableAutoPipelining: false,
    // Reads and writes on masters: replicas lag, and sessions, counters
    // and admission read their own writes.
    scaleReads: 'master',
    redisOptions: {
      ...perConnection(o),
      username: topology.auth?.username,
      password: topology.auth?.password,
    },
  });
}

/** A new connection of the configured topology. */
export function createRedisClient(config: RedisConfig, o: ClientOptions): RedisClient {
  const t = config.topology;
  return t.kind === 'cluster' ? clusterClient(t, o) : new Redis(serverOptions(t, o));
}
