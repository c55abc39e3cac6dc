import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ThrottleIdentity } from '../../infra/throttle/index.js';
import { bearerTokenOf } from './bearer-token.js';
import type { ConsoleCookie } from './console/console-sessions.js';
import { AccessTokens } from './tokens/index.js';

function userIdOfGrant(cookie: ConsoleCookie | undefined): string | undefined {
  return cookie !== undefined && 'grant' in cookie && cookie.grant !== undefined
    ? String(cookie.grant.userId)
    : undefined;
}

/**
 * Counts a signed-in request against its user rather than its IP. The throttle
 * guard runs before the auth guard; AccessTokens remembers what it verified,
 * so the auth guard's own check of the same token is a map lookup.
 */
@Injectable()
export class AccessTokenIdentity extends ThrottleIdentity {
  constructor(private readonly tokens: AccessTokens) {
    super();
  }

  userIdOf(request: FastifyRequest): string | undefined {
    const token = bearerTokenOf(request.headers.authorization);
    // The staff console's cookie, read by ConsoleCookieHook before the guards.
    if (token === undefined) return userIdOfGrant(request.consoleCookie);
    try {
      return String(this.tokens.verify(token).userId);
    } catch {
      // An invalid or expired token counts against the IP; the auth guard answers it.
      return undefined;
    }
  }
}
