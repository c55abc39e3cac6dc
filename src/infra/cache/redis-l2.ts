import type { Redis } from 'ioredis';
import { RedisGate, RedisLock } from '../redis/index.js';
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

const INVALIDATE_TAGS = `
local n = 0
for i = 1, #KEYS do
  local members = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #members do n = n + redis.call('DEL', members[j]) end
  redis.call('DEL', KEYS[i])
end
return n`;

interface CacheCommands {
  cacheSetTagged(numKeys: number, ...args: (string | number)[]): Promise<number>;
  cacheInvalidateTags(numKeys: number, ...keys: string[]): Promise<number>;
}

/** L2 on the shared ioredis client (its keyPrefix isolates deployments). */
export class RedisL2 implements L2Driver {
  private readonly commands: CacheCommands;
  private readonly lock: RedisLock;

  constructor(
    private readonly redis: Redis,
    private readonly gate = new RedisGate(redis),
  ) {
    this.lock = new RedisLock(redis);
    const commands = redis as unknown as Partial<CacheCommands>;
    if (!commands.cacheSetTagged) redis.defineCommand('cacheSetTagged', { lua: SET_TAGGED });
    if (!commands.cacheInvalidateTags)
      redis.defineCommand('cacheInvalidateTags', { lua: INVALIDATE_TAGS });
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
    await this.commands.cacheSetTagged(1 + tagKeys.length, `c:${key}`, ...tagKeys, value, ttl);
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await this.gate.run(() => this.redis.del(...keys.map((k) => `c:${k}`)));
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    const keys = tags.map((t) => `ct:${t}`);
    await this.gate.run(() => this.commands.cacheInvalidateTags(tags.length, ...keys));
  }

  async tryLock(key: string, token: string, ttlMs: number): Promise<boolean> {
    const acquired = await this.gate.run(() => this.lock.tryAcquire(`cl:${key}`, ttlMs, token));
    return acquired !== null;
  }

  async unlock(key: string, token: string): Promise<void> {
    await this.gate.run(() => this.lock.unlock(`cl:${key}`, token));
  }
}
