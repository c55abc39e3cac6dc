import { Inject, Injectable, Optional, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Registry } from 'prom-client';
import { AppError } from '../../common/errors/index.js';
import { APP_CONFIG, type AppConfig, type ThrottleName } from '../../config/index.js';
import { RuntimeSettings } from '../settings/index.js';
import { THROTTLE_AS } from './throttle.decorators.js';
import { ThrottleIdentity } from './throttle-identity.js';

// @nestjs/throttler's metadata key for @SkipThrottle(); not exported from its index.
export const SKIP_DEFAULT = 'THROTTLER:SKIPdefault';

interface Plan {
  name: ThrottleName;
  /** Trackers of `login` are always the IP: it runs before anyone is signed in. */
  byIpOnly: boolean;
}

/**
 * @nestjs/throttler's guard with a plan per route computed once (the stock
 * guard resolves metadata and hashes a key on every request), exactly one
 * counter per request, and 429/42900 in the envelope with Retry-After and
 * X-RateLimit-* headers. Limits are the runtime settings' (read from memory
 * on each request), so an operator's change applies to the next request.
 */
@Injectable()
export class ClusterThrottlerGuard extends ThrottlerGuard {
  private readonly plans = new WeakMap<object, Plan | null>();
  private readonly rejections: Counter<'throttler'>;

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    registry: Registry,
    private readonly settings: RuntimeSettings,
    @Optional() private readonly identity?: ThrottleIdentity,
  ) {
    super(options, storage, reflector);
    this.rejections = new Counter({
      name: 'throttle_rejections_total',
      help: 'Requests refused with 429, by named limit',
      labelNames: ['throttler'] as const,
      registers: [registry],
    });
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const plan = this.planFor(context);
    if (!plan) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();

    const { limit, ttl } = this.settings.current().throttle[plan.name];
    const ttlMs = ttl * 1000;
    const userId = plan.byIpOnly ? undefined : this.identity?.userIdOf(request);
    const tracker = userId ? `${plan.name}:u:${userId}` : `${plan.name}:ip:${request.ip}`;
    const record = await this.storageService.increment(tracker, ttlMs, limit, ttlMs, plan.name);

    void reply.header('X-RateLimit-Limit', limit);
    void reply.header('X-RateLimit-Remaining', Math.max(0, limit - record.totalHits));
    if (record.isBlocked) {
      this.rejections.inc({ throttler: plan.name });
      // While blocked, the window of counted hits may already be over (reset 0):
      // the limit resets when the block ends, which is what Retry-After says.
      const retryAfter = String(Math.max(1, record.timeToBlockExpire));
      void reply.header('X-RateLimit-Remaining', 0);
      void reply.header('X-RateLimit-Reset', retryAfter);
      throw new AppError('THROTTLED', 'too many requests', undefined, {
        'Retry-After': retryAfter,
      });
    }
    void reply.header('X-RateLimit-Reset', record.timeToExpire);
    return true;
  }

  private planFor(context: ExecutionContext): Plan | null {
    const handler = context.getHandler();
    let plan = this.plans.get(handler);
    if (plan === undefined) {
      plan = this.computePlan(context);
      this.plans.set(handler, plan);
    }
    return plan;
  }

  private computePlan(context: ExecutionContext): Plan | null {
    if (!this.config.throttle.enabled) return null;
    const targets = [context.getHandler(), context.getClass()];
    const named = this.reflector.getAllAndOverride<Exclude<ThrottleName, 'default'> | undefined>(
      THROTTLE_AS,
      targets,
    );
    if (!named && this.reflector.getAllAndOverride<boolean>(SKIP_DEFAULT, targets)) return null;
    const name: ThrottleName = named ?? 'default';
    return { name, byIpOnly: name === 'login' };
  }
}
