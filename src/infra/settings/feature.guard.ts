import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { FEATURE_SWITCH, WRITABLE_WHEN_READ_ONLY } from './feature.decorators.js';
import { featureOff, RuntimeSettings } from './runtime-settings.js';
import type { FeatureName } from './settings.model.js';

interface Plan {
  feature: FeatureName | undefined;
  writableWhenReadOnly: boolean;
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The operator's switches, first of the guards: a switched-off feature and,
 * under `readOnly`, every write is refused from memory before a counter or a
 * token is looked at. Route metadata is read once per handler.
 */
@Injectable()
export class FeatureGuard implements CanActivate {
  private readonly plans = new WeakMap<object, Plan>();

  constructor(
    private readonly settings: RuntimeSettings,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const plan = this.planFor(context);
    const { switches } = this.settings.current();
    if (plan.feature && !switches[plan.feature]) throw featureOff(plan.feature);
    if (switches.readOnly && !plan.writableWhenReadOnly) {
      const method = context.switchToHttp().getRequest<FastifyRequest>().method;
      if (!READS.has(method)) throw featureOff('writes');
    }
    return true;
  }

  private planFor(context: ExecutionContext): Plan {
    const handler = context.getHandler();
    let plan = this.plans.get(handler);
    if (!plan) {
      const targets = [handler, context.getClass()];
      plan = {
        feature: this.reflector.getAllAndOverride<FeatureName | undefined>(FEATURE_SWITCH, targets),
        writableWhenReadOnly:
          this.reflector.getAllAndOverride<boolean>(WRITABLE_WHEN_READ_ONLY, targets) === true,
      };
      this.plans.set(handler, plan);
    }
    return plan;
  }
}
