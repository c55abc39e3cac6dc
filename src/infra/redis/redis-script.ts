import type { RedisClient } from './redis-client.js';

export type RedisScript<R> = (keys: string[], args: (string | number)[]) => Promise<R>;

/**
 * Registers a Lua script with ioredis `defineCommand` (EVALSHA, falling back
 * to EVAL once per connection) and returns a typed caller. KEYS get the
 * client's keyPrefix like any other command.
 */
export function defineScript<R>(
  redis: RedisClient,
  name: string,
  lua: string,
  numberOfKeys: number,
): RedisScript<R> {
  redis.defineCommand(name, { lua, numberOfKeys });
  const command = (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<R>>)[
    name
  ].bind(redis);
  return (keys, args) => command(...keys, ...args);
}
