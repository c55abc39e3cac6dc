import type { FastifyRequest } from 'fastify';
import type { AuthUser, UserRole } from '../../../common/auth/index.js';
import { AppError } from '../../../common/errors/index.js';
import type { UsersService } from '../../users/index.js';
import type { SessionLiveness } from '../sessions/index.js';
import {
  CSRF_HEADER,
  SESSION_COOKIE,
  cookieOf,
  newCookieSecret,
  sha256,
} from './console-cookie.js';
import type { ConsoleGrant, ConsoleStore } from './console-store.js';

/** What the request's console cookie stands for, looked up before the guards run. */
export type ConsoleCookie =
  | { idHash: string; grant: ConsoleGrant | undefined }
  /** The store could not answer: a route that needs the session answers 503. */
  | { idHash: string; failure: unknown };

declare module 'fastify' {
  interface FastifyRequest {
    consoleCookie?: ConsoleCookie;
  }
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The console's sessions (docs/console.md): a cookie whose id maps to a
 * staff member's session. A request authenticated by it passes the same
 * checks a bearer token does (the staff session live, the current role) plus
 * the console's own: the role it was approved with is still the user's, from
 * the same grant (a role change ends it, even one changed back), and a write carries the CSRF header and comes
 * from this server's own origin. Nothing is cached in process: the cookie's
 * record is read from the store, the role from the database and liveness
 * from the session machinery on each request, so logout, role changes and
 * revocations end it on every replica at once.
 */
export class ConsoleSessions {
  constructor(
    private readonly store: ConsoleStore,
    private readonly liveness: SessionLiveness,
    private readonly users: UsersService,
    private readonly ttlSec: number,
  ) {}

  /** Starts a session for an approved ticket; returns the cookie's value. */
  async start(grant: ConsoleGrant): Promise<string> {
    const id = newCookieSecret();
    await this.store.createSession(sha256(id), grant, this.ttlSec);
    return id;
  }

  get cookieMaxAgeSec(): number {
    return this.ttlSec;
  }

  /** Ends the request's console session, if any (logout). */
  async end(request: FastifyRequest): Promise<void> {
    const id = cookieOf(request, SESSION_COOKIE);
    if (id !== undefined) await this.store.endSession(sha256(id));
  }

  /**
   * For the onRequest hook: reads the record of the request's cookie, when
   * it has one and no bearer token (a bearer wins), so that the throttle
   * guard counts the request against its user like a bearer request.
   */
  async lookUp(request: FastifyRequest): Promise<void> {
    const id = cookieOf(request, SESSION_COOKIE);
    if (id === undefined) return;
    const idHash = sha256(id);
    try {
      request.consoleCookie = { idHash, grant: await this.store.session(idHash) };
    } catch (failure) {
      request.consoleCookie = { idHash, failure };
    }
  }

  /** Authenticates a request without a bearer token by its console cookie, or throws. */
  async authenticate(
    request: FastifyRequest,
    roles: readonly UserRole[] | undefined,
  ): Promise<AuthUser> {
    const cookie = request.consoleCookie;
    if (cookie === undefined) throw new AppError('UNAUTHORIZED', 'missing bearer token');
    if ('failure' in cookie) throw cookie.failure;
    const grant = cookie.grant;
    if (grant === undefined) {
      throw new AppError('UNAUTHORIZED', 'console session ended, sign in again');
    }
    checkWrite(request);
    if (!(await this.liveness.check(grant.sessionId))) {
      await this.store.endSession(cookie.idHash);
      throw this.liveness.endedError(grant.sessionId);
    }
    const current = await this.users.currentGrant(grant.userId);
    if (current?.role !== grant.role || current.grantedAt !== grant.grantedAt) {
      await this.store.endSession(cookie.idHash);
      throw new AppError('SESSION_REVOKED', 'role changed, sign in to the console again');
    }
    if (roles !== undefined && !roles.includes(current.role)) throw new AppError('FORBIDDEN');
    return { userId: grant.userId, sessionId: grant.sessionId, role: current.role };
  }
}

/**
 * CSRF (docs/console.md): SameSite=Strict already keeps the cookie off
 * cross-site requests; a write must also carry a header no form or simple
 * request can set, and, when the browser names its origin, come from this
 * server's own host name. Host names, not hosts: nginx passes `Host` without
 * the port it was reached on (compose publishes it on 8080), while the
 * browser's Origin keeps it.
 */
export function checkWrite(request: FastifyRequest): void {
  if (READS.has(request.method)) return;
  if (request.headers[CSRF_HEADER] !== '1') {
    throw new AppError('FORBIDDEN', `a console write must carry the ${CSRF_HEADER} header`);
  }
  const origin = request.headers.origin;
  if (origin !== undefined && hostnameOf(origin) !== request.hostname) {
    throw new AppError('FORBIDDEN', 'a console write must come from the console');
  }
}

function hostnameOf(origin: string): string | undefined {
  try {
    return new URL(origin).hostname;
  } catch {
    return undefined;
  }
}
