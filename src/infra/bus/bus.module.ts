import {
  Global,
  Inject,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { REDIS } from '../redis/index.js';
import { MemoryMessageBus } from './memory-message-bus.js';
import { MessageBus } from './message-bus.js';
import { RedisMessageBus } from './redis-message-bus.js';

class BusLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(MessageBus) private readonly bus: MessageBus) {}

  // Subscriptions are made in onModuleInit hooks; waiting here means the app
  // does not report itself started before it can hear invalidations.
  async onApplicationBootstrap(): Promise<void> {
    if (this.bus instanceof RedisMessageBus) {
      // Redis down at boot must not fail the boot: ioredis re-subscribes later.
      await Promise.race([
        this.bus.ready().catch(() => undefined),
        new Promise((r) => setTimeout(r, 2000)),
      ]);
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
      useFactory: (redis: Redis | null, config: AppConfig) =>
        redis && config.redis
          ? new RedisMessageBus(redis, config.redis.keyPrefix)
          : new MemoryMessageBus(),
    },
    BusLifecycle,
  ],
  exports: [MessageBus],
})
export class BusModule {}
