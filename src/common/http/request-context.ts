import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance } from 'fastify';

const requestIds = new AsyncLocalStorage<string>();

/**
 * The X-Request-Id of the request (or job) being served, for code far from
 * the HTTP layer: the outbox stores it with every event, so the log line of a
 * failed job names the request that caused it.
 */
export function currentRequestId(): string | undefined {
  return requestIds.getStore();
}

/** Runs `fn` on behalf of `requestId` (a job acting for the request that caused its event). */
export function withRequestId<T>(requestId: string | undefined, fn: () => T): T {
  return requestId === undefined ? fn() : requestIds.run(requestId, fn);
}

/**
 * Opens the request's context in preHandler, after the body is parsed: the
 * parser's stream callbacks would run outside a context opened earlier.
 */
export function installRequestContext(fastify: FastifyInstance): void {
  fastify.addHook('preHandler', (request, _reply, done) => requestIds.run(request.id, done));
}
