import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule, type ThrottlerModuleOptions } from '@nestjs/throttler';
import { Counter, Gauge, Registry } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { REDIS, REDIS_GATE, type RedisGate, type RedisClient } from '../redis/index.js';
import { THROTTLE_NAMES } from '../settings/index.js';
import { ClusterThrottlerGuard } from './cluster-throttler.guard.js';
import { ClusterThrottlerStorage } from './cluster-throttler.storage.js';
import { MemoryThrottleCounter } from './memory-throttle-counter.js';
import { RedisThrottleCounter } from './redis-throttle-counter.js';

function throttlerOptions(
  config: AppConfig,
  redis: RedisClient | null,
  gate: RedisGate | null,
  registry: Registry,
): ThrottlerModuleOptions {
  const fallbacks = new Counter({
    name: 'throttle_local_fallback_total',
    help: 'Rate-limit checks counted in this replica because Redis was unavailable',
    registers: [registry],
  });
  const local = new MemoryThrottleCounter();
  const counter =
    redis && gate ? new RedisThrottleCounter(redis, local, () => fallbacks.inc(), gate) : null;
  // The alert's signal: a counter's rate says how much, this says whether (even with little traffic).
  new Gauge({
    name: 'throttle_redis_fallback_active',
    help: 'Whether rate limits are counted in this replica because Redis is unavailable (0 without Redis configured: local by design)',
    registers: [registry],
    collect() {
      this.set(counter?.fallingBack ? 1 : 0);
    },
  });
  return {
    // Only what @nestjs/throttler's own checks see: our guard takes the limits
    // from the runtime settings, which these env values seed.
    throttlers: THROTTLE_NAMES.map((name) => ({
      name,
      limit: config.throttle.limits[name].limit,
      ttl: config.throttle.limits[name].ttlSeconds * 1000,
    })),
    storage: new ClusterThrottlerStorage(counter ?? local),
  };
}

/**
 * Cluster-wide rate limits. Registered before the auth module so that its
 * guard runs first (throttle → auth → role): a flood is refused before any
 * token is checked.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG, REDIS, REDIS_GATE, Registry],
      useFactory: throttlerOptions,
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: ClusterThrottlerGuard }],
})
export class ThrottleModule {}
