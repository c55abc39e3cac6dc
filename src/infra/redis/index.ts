export { RedisModule } from './redis.module.js';
export { REDIS, REDIS_GATE } from './redis.tokens.js';
export { RedisGate, RedisSuspendedError } from './redis-gate.js';
