import { setTimeout as sleep } from 'node:timers/promises';
import {
  Global,
  Inject,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { createRedisClient, REDIS, type RedisClient } from '../redis/index.js';
import { MemoryMessageBus } from './memory-message-bus.js';
import { MessageBus } from './message-bus.js';
import { RedisMessageBus } from './redis-message-bus.js';

class BusLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(MessageBus) private readonly bus: MessageBus) {}

  // Subscriptions are made in onModuleInit hooks; waiting here means the app
  // does not report itself started before it can hear invalidations.
  async onApplicationBootstrap(): Promise<void> {
    if (this.bus instanceof RedisMessageBus) {
      await Promise.race([this.bus.ready(), sleep(2000)]);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.bus instanceof RedisMessageBus) await this.bus.close();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: MessageBus,
      inject: [REDIS, APP_CONFIG],
      useFactory: (redis: RedisClient | null, config: AppConfig) =>
        redis && config.redis
          ? new RedisMessageBus(
              redis,
              createRedisClient(config.redis, {
                connectionName: 'bus',
                offlineQueue: true,
                maxRetriesPerRequest: null,
                // Connects on the first subscribe; the timeout bounds quit()
                // on shutdown while Redis is away.
                lazyConnect: true,
                commandTimeoutMs: config.redis.commandTimeoutMs,
              }),
              config.redis.keyPrefix,
            )
          : new MemoryMessageBus(),
    },
    BusLifecycle,
  ],
  exports: [MessageBus],
})
export class BusModule {}
