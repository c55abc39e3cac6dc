import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ThrottleIdentity } from '../../infra/throttle/index.js';
import { bearerTokenOf } from './bearer-token.js';
import { AccessTokens } from './tokens/index.js';

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
    if (token === undefined) return undefined;
    try {
      return String(this.tokens.verify(token).userId);
    } catch {
      // An invalid or expired token counts against the IP; the auth guard answers it.
      return undefined;
    }
  }
}
