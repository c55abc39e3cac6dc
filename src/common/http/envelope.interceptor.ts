import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { map, type Observable } from 'rxjs';
import { okEnvelope, type Envelope } from './envelope.js';

/** Wraps every successful handler result in the envelope. */
@Injectable()
export class EnvelopeInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<Envelope> {
    const requestId = context.switchToHttp().getRequest<FastifyRequest>().id;
    return next.handle().pipe(map((data: unknown) => okEnvelope(data ?? null, requestId)));
  }
}
