import calculateSlot from 'cluster-key-slot';
import { isCluster, type RedisClient } from './redis-client.js';

/**
 * Splits items whose keys go into one multi-key command (a script's KEYS)
 * into groups that Redis accepts: one group on a single server, one per
 * slot on Redis Cluster (CROSSSLOT otherwise). `keyOf` names a key of the
 * item; an item's other keys must share its hash tag.
 */
export function groupBySlot<T>(redis: RedisClient, items: T[], keyOf: (item: T) => string): T[][] {
  if (!isCluster(redis)) return [items];
  const prefix = redis.options.keyPrefix ?? '';
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const slot = calculateSlot(prefix + keyOf(item));
    const group = groups.get(slot);
    if (group) group.push(item);
    else groups.set(slot, [item]);
  }
  return [...groups.values()];
}
