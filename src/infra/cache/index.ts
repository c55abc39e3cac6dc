export { CacheModule } from './cache.module.js';
export { TwoTierCache } from './two-tier-cache.js';
export type { GetOrSetOptions, Loader, TwoTierCacheOptions } from './two-tier-cache.js';
export { RedisL2 } from './redis-l2.js';
