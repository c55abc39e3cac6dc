import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { AppError } from '../../common/errors/index.js';
import { ApiAnswer } from '../../common/http/index.js';
import { ShutdownState } from '../lifecycle/index.js';
import { SkipThrottle } from '../throttle/index.js';
import { ReadinessDetails } from './readiness-details.js';
import { ReadinessMetrics } from './readiness-metrics.js';
import { RedisHealthIndicator } from './redis.health.js';
import { liveView, readinessView } from './health.view.js';

// Probes from the proxy and the orchestrator must never be refused.
@SkipThrottle()
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly shutdown: ShutdownState,
    private readonly readiness: ReadinessMetrics,
    private readonly details: ReadinessDetails,
  ) {}

  /** 200 while the process runs. */
  @ApiOperation({ summary: 'Liveness probe' })
  @Get('live')
  @ApiAnswer(liveView)
  live() {
    return { status: 'ok' };
  }

  /** 200 when the primary database and Redis answer; 503 once shutdown begins. */
  @ApiOperation({ summary: 'Readiness probe' })
  @Get('ready')
  @HealthCheck()
  @ApiAnswer(readinessView, {
    description: 'every dependency answers; a 503 carries the same report as `data`',
  })
  async ready() {
    try {
      if (this.shutdown.isDraining) throw new AppError('UNAVAILABLE', 'shutting down');
      const report = await this.health.check([
        () => this.db.pingCheck('database').withTimeout(1000),
        () => this.redis.check('redis'),
        ...this.details.indicators(),
      ]);
      this.readiness.observe(true);
      return report;
    } catch (err) {
      this.readiness.observe(false);
      throw err;
    }
  }
}
