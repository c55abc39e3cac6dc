import { Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type { AppConfig } from '../../config/index.js';
import { REDIS, type RedisClient } from '../redis/index.js';
import { ConsistencyInterceptor } from './consistency.interceptor.js';
import { ConsistencyService } from './consistency.service.js';
import { RedisWriteMarkers } from './redis-write-markers.js';
import { ReplicaRouting } from './replica-routing.provider.js';
import { MemoryWriteMarkers, WRITE_MARKERS, type WriteMarkerStore } from './write-markers.js';

/**
 * Read/write routing: plain reads on replicas, the rest on the primary,
 * read-your-writes per user, and the primary as the fallback for reads when
 * no replica answers. Domain services inject {@link ConsistencyService}.
 */
@Global()
@Module({})
export class ConsistencyModule {
  /**
   * Without replicas every read is on the primary already: no scope is
   * opened, and the per-request interceptor (Nest's interceptor chain costs
   * several allocations per request) is not even registered.
   */
  static forRoot(config: AppConfig): DynamicModule {
    const enabled = config.database.kind === 'mysql' && config.database.replicas.length > 0;
    const providers: Provider[] = [
      {
        provide: WRITE_MARKERS,
        inject: [REDIS],
        useFactory: (redis: RedisClient | null): WriteMarkerStore =>
          redis ? new RedisWriteMarkers(redis) : new MemoryWriteMarkers(),
      },
      {
        provide: ConsistencyService,
        inject: [WRITE_MARKERS],
        useFactory: (markers: WriteMarkerStore) =>
          new ConsistencyService(markers, {
            enabled,
            readYourWritesMs: config.consistency.readYourWritesMs,
          }),
      },
      ReplicaRouting,
    ];
    if (enabled) providers.push({ provide: APP_INTERCEPTOR, useClass: ConsistencyInterceptor });
    return { module: ConsistencyModule, providers, exports: [ConsistencyService] };
  }
}
