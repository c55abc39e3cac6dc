import { Injectable } from '@nestjs/common';
import type { HealthIndicatorFunction } from '@nestjs/terminus';

/**
 * Facts the domain modules add to /health/ready's `details` (WeChat's
 * order-shipping management, say). They inform and never fail readiness:
 * each is reported `up` with what it knows, so a WeChat setting cannot take
 * replicas out of the load balancer.
 */
@Injectable()
export class ReadinessDetails {
  private readonly sources = new Map<string, () => Record<string, unknown>>();

  register(name: string, detail: () => Record<string, unknown>): void {
    if (this.sources.has(name)) throw new Error(`readiness detail ${name} is registered twice`);
    this.sources.set(name, detail);
  }

  indicators(): HealthIndicatorFunction[] {
    return [...this.sources].map(([name, detail]) => () => ({
      [name]: { ...detail(), status: 'up' as const },
    }));
  }
}
