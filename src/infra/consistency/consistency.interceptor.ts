import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { ConsistencyService } from './consistency.service.js';

/**
 * Opens the read scope of each HTTP request, after the guards (so the auth
 * guard has set `request.user`). Nest binds the handler to the async context
 * in which `next.handle()` is called, so the handler, its services and their
 * queries all see this request's scope.
 */
@Injectable()
export class ConsistencyInterceptor implements NestInterceptor {
  constructor(private readonly consistency: ConsistencyService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!this.consistency.enabled || context.getType() !== 'http') return next.handle();
    const userId = context.switchToHttp().getRequest<FastifyRequest>().user?.userId;
    return this.consistency.runAs(userId, () => next.handle());
  }
}
