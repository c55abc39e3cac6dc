import { isCluster, RedisGate, RedisLock, type RedisClient } from '../redis/index.js';
import type { L2Driver } from './l2-driver.js';

// Lua keeps the value write and its tag bookkeeping atomic, and lets one
// round trip invalidate a whole tag. Tag sets hold full (prefixed) key names,
// because ioredis adds its keyPrefix only to KEYS, not to names read in Lua.
const SET_TAGGED = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
end
return 1`;

// KEYS: the values to delete (ARGV[1] of them), then the tag sets to empty.
const INVALIDATE = `
local values = tonumber(ARGV[1])
for i = 1, values do redis.call('DEL', KEYS[i]) end
for i = values + 1, #KEYS do
  local members = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #members do redis.call('DEL', members[j]) end
  redis.call('DEL', KEYS[i])
end
return 1`;

// Redis Cluster: a value and its tag sets are in different slots, which no
// script may span. Each tag set is updated on its own (this script), before
// the value is written, so an invalidation that runs after the write finds
// the key in the set.
const ADD_TO_TAG = `
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;

interface CacheCommands {
  cacheSetTagged(numKeys: number, ...args: (string | number)[]): Promise<number>;
  cacheInvalidate(numKeys: number, ...args: (string | number)[]): Promise<number>;
  cacheAddToTag(numKeys: number, ...args: (string | number)[]): Promise<number>;
}

/**
 * L2 on the shared ioredis client (its keyPrefix isolates deployments). On
 * Redis Cluster the tag bookkeeping is not atomic with the value: a value
 * written by a load that raced an invalidation may outlive it, as on one
 * server when the load read the database before the write, until its TTL.
 */
export class RedisL2 implements L2Driver {
  private readonly commands: CacheCommands;
  private readonly lock: RedisLock;

  private readonly cluster: boolean;
  /** The client's keyPrefix: tag sets hold prefixed names (see SET_TAGGED). */
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisClient,
    private readonly gate = new RedisGate(redis),
  ) {
    this.lock = new RedisLock(redis);
    this.cluster = isCluster(redis);
    this.prefix = redis.options.keyPrefix ?? '';
    const commands = redis as unknown as Partial<CacheCommands>;
    if (!commands.cacheSetTagged) redis.defineCommand('cacheSetTagged', { lua: SET_TAGGED });
    if (!commands.cacheInvalidate) redis.defineCommand('cacheInvalidate', { lua: INVALIDATE });
    if (!commands.cacheAddToTag)
      redis.defineCommand('cacheAddToTag', { lua: ADD_TO_TAG, numberOfKeys: 1 });
    this.commands = redis as unknown as CacheCommands;
  }

  get(key: string): Promise<string | null> {
    return this.gate.run(() => this.redis.get(`c:${key}`));
  }

  set(key: string, value: string, ttlMs: number, tags: readonly string[]): Promise<void> {
    return this.gate.run(() => this.setNow(key, value, ttlMs, tags));
  }

  private async setNow(key: string, value: string, ttlMs: number, tags: readonly string[]) {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    if (tags.length === 0) {
      await this.redis.set(`c:${key}`, value, 'PX', ttl);
      return;
    }
    const tagKeys = tags.map((t) => `ct:${t}`);
    if (!this.cluster) {
      await this.commands.cacheSetTagged(1 + tagKeys.length, `c:${key}`, ...tagKeys, value, ttl);
      return;
    }
    const member = `${this.prefix}c:${key}`;
    await Promise.all(tagKeys.map((t) => this.commands.cacheAddToTag(1, t, member, ttl)));
    await this.redis.set(`c:${key}`, value, 'PX', ttl);
  }

  async invalidate(keys: readonly string[], tags: readonly string[]): Promise<void> {
    if (keys.length === 0 && tags.length === 0) return;
    const names = keys.map((k) => `c:${k}`);
    const tagKeys = tags.map((t) => `ct:${t}`);
    if (!this.cluster) {
      // One round trip for a whole turn's invalidations (see TwoTierCache.invalidate).
      await this.gate.run(() =>
        this.commands.cacheInvalidate(
          names.length + tagKeys.length,
          ...names,
          ...tagKeys,
          names.length,
        ),
      );
      return;
    }
    await this.gate.run(() =>
      Promise.all([
        this.del(names),
        ...tagKeys.map(async (tag) => {
          const members = await this.redis.smembers(tag);
          await this.del(members.map((m) => m.slice(this.prefix.length)));
          await this.redis.del(tag);
        }),
      ]),
    );
  }

  /** DEL of several keys: one command on one server, one per key on a cluster (each its own slot). */
  private async del(names: string[]): Promise<void> {
    if (names.length === 0) return;
    if (this.cluster) await Promise.all(names.map((n) => this.redis.del(n)));
    else await this.redis.del(...names);
  }

  async tryLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    const acquired = await this.gate.run(() => this.lock.tryAcquire(`cl:${key}`, ttlMs, token));
    return acquired !== null;
  }

  async unlock(key: string, token: string): Promise<void> {
    await this.gate.run(() => this.lock.unlock(`cl:${key}`, token));
  }
}
