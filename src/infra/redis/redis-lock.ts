import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis-client.js';
import { defineScript, type RedisScript } from './redis-script.js';

// Only the owner may release: a holder that outlived its TTL must not delete
// the lock another caller has taken since.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * A short exclusive lease on one Redis key (SET NX PX + owner-checked
 * release): the cross-replica single-flight of the cache and of the WeChat
 * access_token refresh. Not a fencing lock: holders keep their work short
 * and idempotent, and the TTL frees the key if a holder dies.
 */
export class RedisLock {
  private readonly release: RedisScript<number>;

  constructor(private readonly redis: RedisClient) {
    this.release = defineScript(redis, 'lockRelease', RELEASE, 1);
  }

  /** The owner token when acquired, null when someone else holds the key. */
  async tryAcquire(
    key: string,
    ttlMs: number,
    token: string = randomUUID(),
  ): Promise<string | null> {
    const ok = await this.redis.set(key, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    return ok === 'OK' ? token : null;
  }

  /** Releases the key only if it is still held with this token. */
  async unlock(key: string, token: string): Promise<void> {
    await this.release([key], [token]);
  }
}
