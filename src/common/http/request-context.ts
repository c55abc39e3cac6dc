import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance, preHandlerHookHandler } from 'fastify';
import { DeadlineExceededError } from '../errors/deadline-exceeded.js';
import { BUDGET_ROUTE, type BudgetName } from './budget.decorator.js';

/**
 * What code far from the HTTP layer needs to know about the request it works
 * for: its X-Request-Id (the outbox stores it with every event, so the log
 * line of a failed job names the request that caused it) and its deadline.
 * One object in one AsyncLocalStorage: a second store would cost the hot path
 * a second `run` per request.
 */
class RequestContext {
  constructor(
    readonly id: string | undefined,
    /** `performance.now()` by which the request must be answered; Infinity: no budget. */
    readonly deadline: number,
  ) {}
}

const contexts = new AsyncLocalStorage<RequestContext>();

export function currentRequestId(): string | undefined {
  return contexts.getStore()?.id;
}

/**
 * Milliseconds left of the current request's budget (0 or less: spent);
 * Infinity outside a request and in background jobs, which have no budget.
 */
export function remainingBudgetMs(): number {
  const context = contexts.getStore();
  return context === undefined ? Infinity : context.deadline - performance.now();
}

/**
 * Runs `fn` on behalf of `requestId` (a job acting for the request that
 * caused its event). A job has no request budget: nobody is waiting for its
 * answer, and its own timeouts (queue lock, dependency timeouts) bound it.
 */
export function withRequestId<T>(requestId: string | undefined, fn: () => T): T {
  return requestId === undefined ? fn() : contexts.run(new RequestContext(requestId, Infinity), fn);
}

/**
 * Runs `fn` for the current request but without its budget: for work shared
 * with other requests (a cache load that concurrent callers join), which one
 * caller's nearly spent budget must not fail for all of them. The shared
 * work is still bounded by each dependency's own timeout.
 */
export function withoutBudget<T>(fn: () => T): T {
  const context = contexts.getStore();
  return context === undefined || context.deadline === Infinity
    ? fn()
    : contexts.run(new RequestContext(context.id, Infinity), fn);
}

/** Per-route budgets in ms: `default` for every route, the others for routes marked @Budget(name). */
export type RequestBudgets = Record<BudgetName, number>;

/**
 * Opens the request's context in preHandler, after the body is parsed: the
 * parser's stream callbacks would run outside a context opened earlier. The
 * budget's clock starts there too. Each route gets its own hook with its
 * budget resolved once, when the route is registered, so a request reads no
 * route config to find it. (A route's own hooks run after the global ones:
 * no global preHandler may rely on the context.)
 */
export function installRequestContext(fastify: FastifyInstance, budgets: RequestBudgets): void {
  fastify.addHook('onRoute', (route) => {
    const config = route.config as Record<string, unknown> | undefined;
    const name = (config?.[BUDGET_ROUTE] as BudgetName | undefined) ?? 'default';
    const budgetMs = budgets[name];
    const open: preHandlerHookHandler = (request, _reply, done) =>
      contexts.run(new RequestContext(request.id, performance.now() + budgetMs), done);
    const own = route.preHandler;
    route.preHandler = own === undefined ? [open] : [open, ...(Array.isArray(own) ? own : [own])];
  });
}

/** How long one call to a dependency may take, and whether that limit is the request's budget. */
export interface CallTimeout {
  ms: number;
  byBudget: boolean;
}

/**
 * The timeout of one outbound call whose own timeout is `ownMs`: whichever
 * ends first of it and the request's budget. A call that then times out
 * with `byBudget` was cut short by our deadline, not by a slow upstream.
 * Throws DeadlineExceededError when the budget is already spent.
 */
export function callTimeout(ownMs: number): CallTimeout {
  const remaining = remainingBudgetMs();
  if (remaining <= 0) throw new DeadlineExceededError();
  return remaining < ownMs
    ? { ms: Math.ceil(remaining), byBudget: true }
    : { ms: ownMs, byBudget: false };
}
