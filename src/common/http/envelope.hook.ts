import type { FastifyInstance } from 'fastify';
import { okEnvelope } from './envelope.js';

/**
 * Routes whose answers are the API of docs/http-api.md; /docs and /metrics
 * keep their own formats.
 */
function isApiRoute(url: string | undefined): boolean {
  return (
    url !== undefined &&
    (url.startsWith('/api/') || url.startsWith('/health/') || url.startsWith('/console/'))
  );
}

/**
 * Wraps every successful API answer in the envelope, just before Fastify
 * serializes it. Errors arrive here already enveloped by the exception filter
 * (status >= 400). A Fastify hook rather than a Nest interceptor: with no
 * interceptor, Nest runs no rxjs pipeline per request, which was a tenth of a
 * cached request's CPU.
 */
export function installEnvelope(fastify: FastifyInstance): void {
  fastify.addHook('preSerialization', (request, reply, payload, done) => {
    if (reply.statusCode >= 400 || !isApiRoute(request.routeOptions.url)) {
      done(null, payload);
      return;
    }
    done(null, okEnvelope(payload ?? null, request.id));
  });
}
