import type { FastifyRequest } from 'fastify';

/**
 * Who a request counts against when it is signed in. The auth module provides
 * it (it owns token verification); without it every client is counted by IP.
 * The throttle guard runs before the auth guard, so an implementation should
 * remember what it verified on the request for the auth guard to reuse.
 */
export abstract class ThrottleIdentity {
  /** The user id of a valid access token on the request, or undefined. */
  abstract userIdOf(request: FastifyRequest): string | undefined;
}
