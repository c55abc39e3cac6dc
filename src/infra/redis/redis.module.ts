import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { traceRedis } from '../tracing/index.js';
import { bindCommandsToDeadlines } from './redis-deadlines.js';
import { createRedisClient, type RedisClient } from './redis-client.js';
import { RedisGate } from './redis-gate.js';
import { REDIS, REDIS_GATE } from './redis.tokens.js';

async function connect(config: AppConfig): Promise<RedisClient | null> {
  if (!config.redis) return null;
  const client = createRedisClient(config.redis, {
    connectionName: 'app',
    keyPrefix: config.redis.keyPrefix,
    lazyConnect: true,
    commandTimeoutMs: config.redis.commandTimeoutMs,
    maxRetriesPerRequest: 1,
    // While Redis is away, commands fail at once and callers fall back,
    // instead of queueing up behind a dead connection.
    offlineQueue: false,
  });
  traceRedis(client);
  const logger = new Logger('Redis');
  client.on('error', (err: Error) => logger.warn(`redis error: ${err.message}`));
  try {
    await client.connect();
  } catch {
    // ioredis keeps reconnecting; readiness reports Redis down meanwhile.
    logger.warn('redis not reachable at boot; retrying in the background');
  }
  return client;
}

class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: RedisClient | null) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.redis) return;
    await this.redis.quit().catch(() => this.redis?.disconnect());
  }
}

@Global()
@Module({
  providers: [
    { provide: REDIS, inject: [APP_CONFIG], useFactory: connect },
    {
      provide: REDIS_GATE,
      inject: [REDIS, APP_CONFIG],
      // Here because the budgets' late timeouts must reach the gate (redis-deadlines.ts).
      useFactory: (redis: RedisClient | null, config: AppConfig) => {
        if (!redis || !config.redis) return null;
        const gate = new RedisGate(redis);
        bindCommandsToDeadlines(redis, config.redis.commandTimeoutMs, (err) => gate.failed(err));
        return gate;
      },
    },
    RedisCloser,
  ],
  exports: [REDIS, REDIS_GATE],
})
export class RedisModule {}
