import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { REDIS } from '../redis/index.js';
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
@Module({
  providers: [
    {
      provide: WRITE_MARKERS,
      inject: [REDIS],
      useFactory: (redis: Redis | null): WriteMarkerStore =>
        redis ? new RedisWriteMarkers(redis) : new MemoryWriteMarkers(),
    },
    {
      provide: ConsistencyService,
      inject: [WRITE_MARKERS, APP_CONFIG],
      useFactory: (markers: WriteMarkerStore, config: AppConfig) =>
        new ConsistencyService(markers, {
          enabled: config.database.kind === 'mysql' && config.database.replicas.length > 0,
          readYourWritesMs: config.consistency.readYourWritesMs,
        }),
    },
    ReplicaRouting,
    { provide: APP_INTERCEPTOR, useClass: ConsistencyInterceptor },
  ],
  exports: [ConsistencyService],
})
export class ConsistencyModule {}
