export { CacheModule } from './cache.module.js';
export { TwoTierCache } from './two-tier-cache.js';
export type { GetOrSetOptions, Loader, TwoTierCacheOptions } from './two-tier-cache.js';
export type { L2Driver } from './l2-driver.js';
export { RedisL2 } from './redis-l2.js';
export { MemoryL2 } from './memory-l2.js';
