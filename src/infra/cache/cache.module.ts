import { Global, Module } from '@nestjs/common';
import { Registry } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { MessageBus } from '../bus/index.js';
import { REDIS, REDIS_GATE, type RedisGate, type RedisClient } from '../redis/index.js';
import { MemoryL2 } from './memory-l2.js';
import { RedisL2 } from './redis-l2.js';
import { TwoTierCache } from './two-tier-cache.js';

/** One two-tier cache per app instance; modules namespace their keys. */
@Global()
@Module({
  providers: [
    {
      provide: TwoTierCache,
      inject: [REDIS, REDIS_GATE, MessageBus, Registry, APP_CONFIG],
      useFactory: (
        redis: RedisClient | null,
        gate: RedisGate | null,
        bus: MessageBus,
        registry: Registry,
        config: AppConfig,
      ) => {
        const cache = new TwoTierCache({
          l2: redis && gate ? new RedisL2(redis, gate) : new MemoryL2(),
          bus,
          registry,
          ...config.cache,
        });
        // Invalidations that failed during an outage are replayed as soon as Redis is back.
        redis?.on('ready', () => void cache.flushPending());
        return cache;
      },
    },
  ],
  exports: [TwoTierCache],
})
export class CacheModule {}
