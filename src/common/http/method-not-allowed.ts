import type { FastifyInstance } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { AppError } from '../errors/app-error.js';

const METHODS: HTTPMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * A wrong method on an existing path is 405 with `Allow` (RFC 9110), not 404.
 * Fastify's router only answers "no route for this method and path", so every
 * route is also kept in a router of our own that is asked, on a 404 only,
 * which methods the path does have. Catch-all routes (CORS preflight's `*`)
 * are left out: they would make every path "exist".
 */
export function installMethodNotAllowed(fastify: FastifyInstance): void {
  const routes = FindMyWay({ ignoreTrailingSlash: true });
  fastify.addHook('onRoute', (route) => {
    if (route.url.includes('*')) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (
        METHODS.includes(method as HTTPMethod) &&
        !routes.hasRoute(method as HTTPMethod, route.url)
      ) {
        routes.on(method as HTTPMethod, route.url, () => undefined);
      }
    }
  });
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (!request.is404) {
      done();
      return;
    }
    const path = request.url.split('?', 1)[0];
    const allowed = METHODS.filter((m) => m !== request.method && routes.find(m, path) !== null);
    if (allowed.length === 0) {
      done();
      return;
    }
    done(new AppError('METHOD_NOT_ALLOWED', undefined, undefined, { Allow: allowed.join(', ') }));
  });
}
