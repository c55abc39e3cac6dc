import type { CanActivate, NestInterceptor, PipeTransform, Type } from '@nestjs/common';
import {
  CUSTOM_ROUTE_ARGS_METADATA,
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  HEADERS_METADATA,
  HTTP_CODE_METADATA,
  INTERCEPTORS_METADATA,
  PIPES_METADATA,
  REDIRECT_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { ApplicationConfig } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { GuardsConsumer } from '@nestjs/core/guards/guards-consumer.js';
import { InterceptorsConsumer } from '@nestjs/core/interceptors/interceptors-consumer.js';
import { ParamsTokenFactory } from '@nestjs/core/pipes/params-token-factory.js';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { isObservable, lastValueFrom } from 'rxjs';
import { AppError } from '../errors/app-error.js';
import { sendError } from './exception.filter.js';
import { routeConfig } from './route-config.js';

/** Route config key read by installLeanRoutes. */
const LEAN_ROUTE = 'leanRoute';

interface LeanTarget {
  controller: Type;
  method: string;
}

/**
 * Serves a hot route without Nest's router: its own preHandler runs the
 * app's global guards, interceptors and pipes on the controller method and
 * sends the answer, so the request skips the router proxy, the per-request
 * param exchange, the response controller and the exceptions zone (about a
 * sixth of a cached read's CPU, docs/benchmarks.md). The answer, its
 * envelope, its headers and its errors are the Nest route's: the same guard
 * instances decide, and errors leave through the exception filter's
 * sendError. The Nest route stays registered (OpenAPI, 405s) and is never
 * reached. A lean route takes only @Param(), @Body(), @Query(), @Headers()
 * and custom parameter decorators, without parameter pipes, and has no
 * route-level guards, interceptors, pipes, filters, @Header() or redirect:
 * the app refuses to boot otherwise.
 */
export const Lean = (): MethodDecorator => (target, key, descriptor) => {
  const lean: LeanTarget = { controller: target.constructor as Type, method: String(key) };
  return routeConfig({ [LEAN_ROUTE]: lean })(target, key, descriptor);
};

/** Where Nest's own parameter decorators read from (RouteParamsFactory). */
const SOURCES = new Map<number, 'params' | 'body' | 'query' | 'headers'>([
  [RouteParamtypes.PARAM, 'params'],
  [RouteParamtypes.BODY, 'body'],
  [RouteParamtypes.QUERY, 'query'],
  [RouteParamtypes.HEADERS, 'headers'],
]);

interface ArgPlan {
  index: number;
  /** The RouteParamtypes value; undefined for a custom decorator. */
  type: RouteParamtypes | undefined;
  source?: 'params' | 'body' | 'query' | 'headers';
  data: unknown;
  metatype: unknown;
  factory?: (data: unknown, context: ExecutionContextHost) => unknown;
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as PromiseLike<unknown> | null)?.then === 'function';

/** The answer of one lean request, or a rejection that sendError turns into its envelope. */
type Serve = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * Gives every route marked @Lean() its preHandler. Call before the routes
 * are registered (Nest registers them in `init()`), after the hooks whose
 * preHandlers must run first (the request context's).
 */
export function installLeanRoutes(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRoute', (route) => {
    const target = (route.config as Record<string, unknown> | undefined)?.[LEAN_ROUTE] as
      LeanTarget | undefined;
    if (!target) return;
    const args = argPlans(target);
    const handler = target.controller.prototype[target.method] as object;
    // Nest's status: @HttpCode(), else 201 for a POST and 200 for the rest.
    const status =
      (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ??
      (route.method === 'POST' ? 201 : 200);
    // Resolved at the first request: the controller and the global guards
    // exist only once the application has initialised.
    let serve: Serve | undefined;
    const lean: preHandlerHookHandler = (request, reply) => {
      serve ??= servingOf(app, target, args);
      serve(request, reply).then(
        (value) => {
          if (!reply.sent) void reply.code(status).send(value);
        },
        (err: unknown) => sendError(err, request, reply),
      );
    };
    const own = route.preHandler;
    route.preHandler = own === undefined ? [lean] : [...(Array.isArray(own) ? own : [own]), lean];
  });
}

/** What each argument of the method is, read once; anything a lean route cannot take fails the boot. */
function argPlans({ controller, method }: LeanTarget): ArgPlan[] {
  const handler = controller.prototype[method] as object;
  const where = `${controller.name}.${method}`;
  for (const key of [
    GUARDS_METADATA,
    INTERCEPTORS_METADATA,
    PIPES_METADATA,
    EXCEPTION_FILTERS_METADATA,
  ]) {
    if (Reflect.getMetadata(key, handler) || Reflect.getMetadata(key, controller)) {
      throw new Error(`@Lean() route ${where} has route-level ${key}`);
    }
  }
  for (const key of [HEADERS_METADATA, REDIRECT_METADATA]) {
    if (Reflect.getMetadata(key, handler) !== undefined) {
      throw new Error(`@Lean() route ${where} sets ${key}`);
    }
  }
  const types = (Reflect.getMetadata('design:paramtypes', controller.prototype, method) ??
    []) as unknown[];
  const metadata = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, method) ?? {}) as Record<
    string,
    { index: number; data: unknown; pipes?: unknown[]; factory?: ArgPlan['factory'] }
  >;
  return Object.entries(metadata).map(([key, arg]) => {
    if (arg.pipes?.length) throw new Error(`@Lean() route ${where} has parameter pipes`);
    const base = { index: arg.index, data: arg.data, metatype: types[arg.index] };
    if (key.includes(CUSTOM_ROUTE_ARGS_METADATA) && arg.factory) {
      return { ...base, type: undefined, factory: arg.factory };
    }
    const type = Number(key.split(':')[0]) as RouteParamtypes;
    const source = SOURCES.get(type);
    if (!source) {
      throw new Error(
        `@Lean() route ${where} takes a parameter other than @Param(), @Body(), @Query(), @Headers() or a custom one`,
      );
    }
    // Headers are keyed in lower case, as Nest's @Headers(name) reads them.
    const data =
      type === RouteParamtypes.HEADERS && typeof arg.data === 'string'
        ? arg.data.toLowerCase()
        : arg.data;
    return { ...base, data, type, source };
  });
}

function servingOf(app: NestFastifyApplication, target: LeanTarget, args: ArgPlan[]): Serve {
  const config = app.get(ApplicationConfig, { strict: false });
  const guards: CanActivate[] = config.getGlobalGuards();
  const interceptors: NestInterceptor[] = config.getGlobalInterceptors();
  const pipes: PipeTransform[] = config.getGlobalPipes();
  const instance: object = app.get(target.controller, { strict: false });
  const handler = target.controller.prototype[target.method] as (...a: unknown[]) => unknown;
  // Nest's own consumers, so guards and interceptors run exactly as on its routes.
  const guardsConsumer = new GuardsConsumer();
  const interceptorsConsumer = new InterceptorsConsumer();
  // What each pipe is told about the argument, made once rather than per
  // request (PipesConsumer.apply would): a type Nest does not know (a custom
  // decorator's) is 'custom'.
  const tokens = new ParamsTokenFactory();
  const described = args.map((arg) => ({
    arg,
    metadata: {
      type: tokens.exchangeEnumForString(arg.type as RouteParamtypes),
      data: arg.data as string | undefined,
      metatype: arg.metatype as Type | undefined,
    },
  }));

  const argumentsOf = async (request: FastifyRequest, reply: FastifyReply) => {
    const context = new ExecutionContextHost(
      [request, reply, undefined],
      target.controller,
      handler,
    );
    context.setType('http');
    const values: unknown[] = [];
    for (const { arg, metadata } of described) {
      let value: unknown;
      if (arg.factory) value = arg.factory(arg.data, context);
      else {
        const from = request[arg.source!] as Record<string, unknown> | undefined;
        value = arg.data === undefined ? from : from?.[arg.data as string];
      }
      // Each global pipe in turn, as Nest's PipesConsumer runs them, but
      // awaited only when it answers with a promise: the app's validation
      // answers most arguments at once (validation.pipe.ts).
      for (const pipe of pipes) {
        const out: unknown = pipe.transform(value, metadata);
        value = isThenable(out) ? await out : out;
      }
      values[arg.index] = value;
    }
    return values;
  };

  return async (request, reply) => {
    const args = [request, reply, undefined];
    if (!(await guardsConsumer.tryActivate(guards, args, instance, handler, 'http'))) {
      throw new AppError('FORBIDDEN');
    }
    const call = async () => handler.apply(instance, await argumentsOf(request, reply));
    if (interceptors.length === 0) return call();
    const result: unknown = await interceptorsConsumer.intercept(
      interceptors,
      args,
      instance,
      handler,
      call,
      'http',
    );
    return isObservable(result) ? lastValueFrom(result) : result;
  };
}
