import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AppError } from '../../common/errors/index.js';
import type { PendingRefusal } from '../../common/http/index.js';
import { trackerKeys, type RedisThrottleCounter } from './redis-throttle-counter.js';
import type { ThrottleStep } from './throttle-record.js';

/**
 * A throttle hit that the guard left to the route's own Redis call (the
 * flash admission counts it in its script: one call per turn instead of
 * two). The request is answered only once the hit is counted, folded or
 * on its own (the route settles it before answering; the exception filter
 * before answering an error: `request.pendingRefusal`), and answered 429 when it is over
 * the limit, exactly as if the guard had counted it: nothing the route does
 * in Redis for a request over the limit happens (the script checks the hit
 * first), and what it did before that (reading the sale) has no effect.
 */
export class DeferredHit implements PendingRefusal {
  private step: Promise<ThrottleStep> | undefined;
  private resolveFolded: ((step: ThrottleStep) => void) | undefined;
  private answer: Promise<AppError | undefined> | undefined;

  constructor(
    /** The tracker, e.g. `flash:u:42`. */
    readonly key: string,
    readonly ttlMs: number,
    readonly limit: number,
    readonly blockMs: number,
    private readonly counter: RedisThrottleCounter,
    /** Sets the X-RateLimit-* headers; the 429 to answer when over the limit. */
    private readonly answerStep: (step: ThrottleStep) => AppError | undefined,
  ) {}

  /** The tracker's keys (hits, block), for the call that counts it with THROTTLE_STEP_LUA. */
  get keys(): [string, string] {
    return trackerKeys(this.key);
  }

  /**
   * Hands the hit to a call that counts it (once): false when it is counted
   * already. The call then reports its step (folded) or its failure.
   */
  fold(): boolean {
    if (this.step) return false;
    this.step = new Promise((resolve) => (this.resolveFolded = resolve));
    return true;
  }

  /** The call that counted the hit reached Redis: this is its step. */
  folded(step: ThrottleStep): void {
    this.counter.reachedRedis();
    this.resolveFolded?.(step);
  }

  /** The call failed: counted in this replica's memory, as the counter does when its own call fails. */
  foldFailed(err: unknown): void {
    this.counter.failed(err);
    void this.counter
      .countLocally(this.key, this.ttlMs, this.limit, this.blockMs)
      .then((step) => this.resolveFolded?.(step));
  }

  /**
   * Counts the hit unless a call did (then waits for its step), sets the
   * headers once, and says the 429 to answer instead when over the limit.
   */
  settle(): Promise<AppError | undefined> {
    this.step ??= this.counter.hit(this.key, this.ttlMs, this.limit, this.blockMs);
    this.answer ??= this.step.then(this.answerStep);
    return this.answer;
  }
}

/**
 * The request's deferred hit on a @ThrottleAs(name, { folded: true }) route,
 * or undefined when the guard counted it (Redis Cluster, Redis away, not
 * signed in, throttling off).
 */
export const FoldedHit = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): DeferredHit | undefined => {
    const pending = ctx.switchToHttp().getRequest<FastifyRequest>().pendingRefusal;
    return pending instanceof DeferredHit ? pending : undefined;
  },
);
