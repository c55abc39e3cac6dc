import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { ModulesContainer } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { AUTH_REQUIRED, AUTH_ROLES } from '../../common/auth/index.js';
import { API_ANSWERS, type ApiAnswerMeta } from '../../common/http/index.js';
import { FEATURE_SWITCH, WRITABLE_WHEN_READ_ONLY } from '../settings/index.js';
import { SKIP_DEFAULT } from '../throttle/index.js';

/** What the document needs to know of one controller method, read from its metadata. */
export interface RouteFacts {
  method: RequestMethod;
  answers: ApiAnswerMeta[];
  authenticated: boolean;
  roles: string[];
  throttled: boolean;
  /** Behind a feature switch (`@FeatureSwitch`). */
  switchable: boolean;
  /** A write that `readOnly` lets through (`@WritableWhenReadOnly`). */
  writableWhenReadOnly: boolean;
  body?: Function;
  query?: Function;
}

/** `Controller_method`, the operationId of the route in the document. */
export const operationId = (controller: string, method: string) => `${controller}_${method}`;

function paramClass(cls: Function, name: string, kind: RouteParamtypes): Function | undefined {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, cls, name) ?? {}) as Record<
    string,
    { index: number; data?: unknown }
  >;
  const types = (Reflect.getMetadata('design:paramtypes', cls.prototype as object, name) ??
    []) as Function[];
  for (const [key, arg] of Object.entries(args)) {
    // A whole-DTO argument (`@Body() body: LoginDto`), not `@Param('id') id: string`.
    if (key.split(':')[0] === String(kind) && arg.data === undefined) {
      const type = types[arg.index];
      if (type && ![String, Number, Boolean, Object].includes(type as never)) return type;
    }
  }
  return undefined;
}

/** Every controller route of the app, by operationId. */
export function routeFacts(app: INestApplication): Map<string, RouteFacts> {
  const facts = new Map<string, RouteFacts>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const cls = wrapper.metatype as Function | null;
      if (!cls) continue;
      const proto = cls.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = proto[name];
        if (typeof handler !== 'function' || name === 'constructor') continue;
        if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const meta = (key: string) =>
          (Reflect.getMetadata(key, handler) ?? Reflect.getMetadata(key, cls)) as unknown;
        facts.set(operationId(cls.name, name), {
          method: Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod,
          answers: (Reflect.getMetadata(API_ANSWERS, handler) ?? []) as ApiAnswerMeta[],
          authenticated: meta(AUTH_REQUIRED) === true,
          roles: (meta(AUTH_ROLES) ?? []) as string[],
          throttled: meta(SKIP_DEFAULT) !== true,
          switchable: meta(FEATURE_SWITCH) !== undefined,
          writableWhenReadOnly: meta(WRITABLE_WHEN_READ_ONLY) === true,
          body: paramClass(cls, name, RouteParamtypes.BODY),
          query: paramClass(cls, name, RouteParamtypes.QUERY),
        });
      }
    }
  }
  return facts;
}
