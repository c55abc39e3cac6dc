import {
  SetMetadata,
  applyDecorators,
  createParamDecorator,
  type ExecutionContext,
} from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { UserRole } from './user-role.js';

// Route-level auth contract shared by every domain module. The guard that
// enforces it lives in the auth module; domains only declare what they need.

export const AUTH_REQUIRED = 'auth:required';
export const AUTH_ROLES = 'auth:roles';

/** Who made an authenticated request (set on the request by the auth guard). */
export interface AuthUser {
  userId: number;
  sessionId: string;
  role: UserRole;
}

declare module 'fastify' {
  interface FastifyRequest {
    user?: AuthUser;
  }
}

/** The route needs a valid access token and a live session (🔒 in docs/http-api.md). */
export const Authenticated = () =>
  applyDecorators(SetMetadata(AUTH_REQUIRED, true), ApiBearerAuth());

/** The route needs a live session whose user has one of these roles (403/40300 otherwise). */
export const Roles = (...roles: UserRole[]) =>
  applyDecorators(Authenticated(), SetMetadata(AUTH_ROLES, roles));

/** The authenticated user of the request; only on @Authenticated() routes. */
export const CurrentUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AuthUser =>
    ctx.switchToHttp().getRequest<FastifyRequest>().user as AuthUser,
);
