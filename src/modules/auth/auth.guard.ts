import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AUTH_REQUIRED, AUTH_ROLES, type AuthUser } from '../../common/auth/index.js';
import { AppError } from '../../common/errors/index.js';
import type { UserRole } from '../users/index.js';
import { bearerTokenOf } from './bearer-token.js';
import { SessionLiveness } from './sessions/index.js';
import { AccessTokens, type AccessClaims } from './tokens/index.js';

interface RouteAuth {
  required: boolean;
  roles: readonly UserRole[] | undefined;
}

const PUBLIC: RouteAuth = { required: false, roles: undefined };

/**
 * Enforces @Authenticated() and @Roles() on every route (global guard);
 * routes without them stay public. This is the hot path of every
 * authenticated request: route metadata is read once per handler, the JWT
 * key is a KeyObject, and session liveness comes from memory.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly routes = new Map<object, RouteAuth>();

  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: AccessTokens,
    private readonly liveness: SessionLiveness,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const route = this.routeOf(context);
    if (!route.required) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const token = bearerTokenOf(request.headers.authorization);
    if (token === undefined) throw new AppError('UNAUTHORIZED', 'missing bearer token');
    const claims = this.tokens.verify(token);
    const live = this.liveness.check(claims.sessionId);
    if (live === true) return admit(request, claims, route);
    if (live === false) throw this.liveness.endedError(claims.sessionId);
    return live.then((isLive) => {
      if (!isLive) throw this.liveness.endedError(claims.sessionId);
      return admit(request, claims, route);
    });
  }

  private routeOf(context: ExecutionContext): RouteAuth {
    const handler = context.getHandler();
    let route = this.routes.get(handler);
    if (route === undefined) {
      const targets = [handler, context.getClass()];
      const required = this.reflector.getAllAndOverride<boolean>(AUTH_REQUIRED, targets) ?? false;
      const roles = this.reflector.getAllAndOverride<UserRole[]>(AUTH_ROLES, targets);
      route = required ? { required, roles: roles?.length ? roles : undefined } : PUBLIC;
      this.routes.set(handler, route);
    }
    return route;
  }
}

function admit(request: FastifyRequest, claims: AccessClaims, route: RouteAuth): boolean {
  if (route.roles !== undefined && !route.roles.includes(claims.role)) {
    throw new AppError('FORBIDDEN');
  }
  request.user = claims satisfies AuthUser;
  return true;
}
