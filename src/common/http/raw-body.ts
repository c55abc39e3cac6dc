import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RawServerDefault } from 'fastify';
import { RouteConfig } from '@nestjs/platform-fastify';

/** Route config flag: the route's JSON body arrives as the raw bytes (a Buffer), unparsed. */
export const RAW_BODY_ROUTE = 'rawBody';

/**
 * For routes that verify a signature over the body as sent (WeChat Pay
 * notifications): parsing and re-serializing JSON changes the bytes.
 */
export const RawBody = (): MethodDecorator => RouteConfig({ [RAW_BODY_ROUTE]: true });

/**
 * The JSON parser of every route: the framework's default (prototype
 * poisoning refused), except on @RawBody() routes, which get the Buffer.
 */
export function installJsonParser(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  const { bodyLimit } = fastify.initialConfig;
  const json = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser<RawServerDefault>('application/json', { bodyLimit }, (request, body, done) => {
    const config = request.routeOptions.config as unknown as Record<string, unknown> | undefined;
    if (config?.[RAW_BODY_ROUTE] === true) {
      done(null, body);
      return;
    }
    void json(request, body as Buffer & string, done);
  });
}
