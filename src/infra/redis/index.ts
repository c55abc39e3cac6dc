export { RedisModule } from './redis.module.js';
export { REDIS } from './redis.tokens.js';
export { defineScript, type RedisScript } from './redis-script.js';
export { RedisLock } from './redis-lock.js';
