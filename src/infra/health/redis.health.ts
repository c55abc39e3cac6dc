import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { REDIS, type RedisClient } from '../redis/index.js';

@Injectable()
export class RedisHealthIndicator {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient | null,
    private readonly health: HealthIndicatorService,
  ) {}

  check(key: 'redis') {
    const redis = this.redis;
    if (!redis) return this.health.check(key).up({ mode: 'in-process' });
    return this.health
      .check(key)
      .attempt(async () => {
        await redis.ping();
      })
      .withTimeout(1000);
  }
}
