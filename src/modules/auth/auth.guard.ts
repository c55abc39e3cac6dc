import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AUTH_REQUIRED, AUTH_ROLES, type AuthUser } from '../../common/auth/index.js';
import { AppError } from '../../common/errors/index.js';
import { UsersService, type UserRole } from '../users/index.js';
import { bearerTokenOf } from './bearer-token.js';
import { ConsoleSessions } from './console/console-sessions.js';
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
 * key is a KeyObject, and session liveness comes from memory. Only routes
 * with @Roles() cost a database read: the role is the user's current one
 * (ADMIN_OPENIDS and `npm run admin` grants), not the token's claim, so a
 * grant or a revoke applies at the next request without a restart.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly routes = new Map<object, RouteAuth>();

  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: AccessTokens,
    private readonly liveness: SessionLiveness,
    private readonly users: UsersService,
    private readonly consoleSessions: ConsoleSessions,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const route = this.routeOf(context);
    if (!route.required) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const token = bearerTokenOf(request.headers.authorization);
    // Without a bearer token, the staff console's cookie (docs/console.md).
    if (token === undefined) return this.admitConsole(request, route);
    const claims = this.tokens.verify(token);
    const live = this.liveness.check(claims.sessionId);
    if (live === true && route.roles === undefined) return admit(request, claims);
    if (live === false) throw this.liveness.endedError(claims.sessionId);
    return this.admitLive(request, claims, route, live);
  }

  private async admitLive(
    request: FastifyRequest,
    claims: AccessClaims,
    route: RouteAuth,
    live: true | Promise<boolean>,
  ): Promise<boolean> {
    if (live !== true && !(await live)) throw this.liveness.endedError(claims.sessionId);
    if (route.roles === undefined) return admit(request, claims);
    const role = await this.users.currentRole(claims.userId);
    if (role === undefined || !route.roles.includes(role)) throw new AppError('FORBIDDEN');
    return admit(request, { ...claims, role });
  }

  private async admitConsole(request: FastifyRequest, route: RouteAuth): Promise<boolean> {
    return admit(request, await this.consoleSessions.authenticate(request, route.roles));
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

function admit(request: FastifyRequest, claims: AccessClaims): boolean {
  request.user = claims satisfies AuthUser;
  return true;
}
