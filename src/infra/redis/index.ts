export { RedisModule } from './redis.module.js';
export { REDIS, REDIS_GATE } from './redis.tokens.js';
export { defineScript, type RedisScript } from './redis-script.js';
export { RedisLock } from './redis-lock.js';
export { RedisGate, RedisSuspendedError } from './redis-gate.js';
