import type { ConnectionOptions } from 'bullmq';
import type { RedisConfig } from '../../config/index.js';
import { clusterClient, serverOptions, type ClientOptions } from '../redis/index.js';

/**
 * BullMQ's connection: ioredis options for one server or Sentinel (BullMQ
 * opens its own connections from them), a Cluster of its own for Redis
 * Cluster (BullMQ takes a cluster only as an instance; the driver closes
 * it). Never the app's shared client, and no keyPrefix: BullMQ has `prefix`.
 * Producers fail fast while Redis is away; workers block and retry for ever,
 * as BullMQ requires.
 */
export function bullConnection(config: RedisConfig, blocking: boolean): ConnectionOptions {
  const o: ClientOptions = {
    connectionName: 'bullmq',
    offlineQueue: blocking,
    maxRetriesPerRequest: blocking ? null : 1,
  };
  const topology = config.topology;
  // Lazy: BullMQ connects it when a queue or worker first needs it.
  if (topology.kind === 'cluster') return clusterClient(topology, { ...o, lazyConnect: true });
  return serverOptions(topology, o) as ConnectionOptions;
}

/**
 * BullMQ's key prefix. On Redis Cluster every key of a queue must share a
 * slot, so the prefix is a hash tag (`{mp:bull}`), as BullMQ's docs require;
 * elsewhere it keeps its plain form, so the jobs already queued in a running
 * deployment are still found after an upgrade.
 */
export function bullPrefix(config: RedisConfig): string {
  const prefix = `${config.keyPrefix}bull`;
  return config.topology.kind === 'cluster' ? `{${prefix}}` : prefix;
}
