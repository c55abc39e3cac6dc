export { RedisModule } from './redis.module.js';
export { REDIS } from './redis.tokens.js';
