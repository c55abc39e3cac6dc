import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { ReadinessDetails } from './readiness-details.js';
import { ReadinessMetrics } from './readiness-metrics.js';
import { RedisHealthIndicator } from './redis.health.js';

// Global: any module may add a fact to the readiness report (ReadinessDetails).
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [RedisHealthIndicator, ReadinessMetrics, ReadinessDetails],
  exports: [ReadinessDetails],
})
export class HealthModule {}
