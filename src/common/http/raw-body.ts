import type { FastifyRequest } from 'fastify';
import { routeConfig } from './route-config.js';

/** Route config flag: the route's JSON body arrives as the raw bytes (a Buffer), unparsed. */
export const RAW_BODY_ROUTE = 'rawBody';

/**
 * For routes that verify a signature over the body as sent (WeChat Pay
 * notifications): parsing and re-serializing JSON changes the bytes.
 */
export const RawBody = (): MethodDecorator => routeConfig({ [RAW_BODY_ROUTE]: true });

export function wantsRawBody(request: FastifyRequest): boolean {
  const config = request.routeOptions.config as unknown as Record<string, unknown> | undefined;
  return config?.[RAW_BODY_ROUTE] === true;
}
