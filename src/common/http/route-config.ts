import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants.js';

/**
 * Adds entries to a route's Fastify config (what `route.config` holds in
 * onRoute hooks and `request.routeOptions.config` at request time). Unlike
 * @RouteConfig(), which replaces the whole config, it merges: the
 * decorators built on it (@Budget, @Compressed, @Lean, @RawBody) combine in
 * any order.
 */
export const routeConfig =
  (entries: Record<string, unknown>): MethodDecorator =>
  (_target, _key, descriptor) => {
    const handler = descriptor.value as object;
    const config = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) ?? {}) as object;
    Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...config, ...entries }, handler);
    return descriptor;
  };
