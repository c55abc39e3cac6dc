export { RedisModule } from './redis.module.js';
export { REDIS, REDIS_GATE } from './redis.tokens.js';
export {
  clusterClient,
  createRedisClient,
  serverOptions,
  isCluster,
  type ClientOptions,
  type RedisClient,
} from './redis-client.js';
export { groupBySlot } from './key-slot.js';
export { defineScript, type RedisScript } from './redis-script.js';
export { RedisLock } from './redis-lock.js';
export { RedisGate, RedisSuspendedError } from './redis-gate.js';
