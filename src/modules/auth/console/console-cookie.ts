import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The console's session cookie (docs/console.md): an opaque id, never readable by JavaScript. */
export const SESSION_COOKIE = 'mp_console';
/**
 * The secret of the browser that asked for a sign-in ticket: only that
 * browser's poll starts the session, so someone who photographs the code on
 * its screen and polls the ticket gets nothing.
 */
export const BINDER_COOKIE = 'mp_console_login';
/** Scoped to the ticket routes: no other request carries it. */
const BINDER_PATH = '/console/login-tickets';
/** The header every console write carries (docs/console.md, "CSRF"). */
export const CSRF_HEADER = 'x-console-csrf';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** 256 bits, base64url. */
export const newCookieSecret = (): string => randomBytes(32).toString('base64url');

export const sha256 = (value: string): string =>
  createHash('sha256').update(value).digest('base64url');

/** The value of one cookie of the request's Cookie header(s), or undefined. */
export function cookieOf(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) {
      const value = pair.slice(eq + 1).trim();
      // Our values are base64url: anything else was not set by us.
      return /^[A-Za-z0-9_-]{1,128}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/**
 * `Secure` everywhere but on the developer's own machine, where the console
 * is served over plain http (browsers treat localhost as a secure context
 * but would still drop a Secure cookie set over http by some of them).
 */
function secureFor(request: FastifyRequest): string {
  return LOCAL_HOSTS.has(request.hostname) ? '' : '; Secure';
}

function setCookie(
  reply: FastifyReply,
  request: FastifyRequest,
  name: string,
  value: string,
  path: string,
  maxAgeSec: number,
): void {
  void reply.header(
    'set-cookie',
    `${name}=${value}; Path=${path}; Max-Age=${maxAgeSec}; HttpOnly; SameSite=Strict${secureFor(request)}`,
  );
}

export function setSessionCookie(
  reply: FastifyReply,
  request: FastifyRequest,
  id: string,
  maxAgeSec: number,
): void {
  setCookie(reply, request, SESSION_COOKIE, id, '/', maxAgeSec);
}

export function clearSessionCookie(reply: FastifyReply, request: FastifyRequest): void {
  setCookie(reply, request, SESSION_COOKIE, '', '/', 0);
}

export function setBinderCookie(
  reply: FastifyReply,
  request: FastifyRequest,
  secret: string,
  maxAgeSec: number,
): void {
  setCookie(reply, request, BINDER_COOKIE, secret, BINDER_PATH, maxAgeSec);
}

export function clearBinderCookie(reply: FastifyReply, request: FastifyRequest): void {
  setCookie(reply, request, BINDER_COOKIE, '', BINDER_PATH, 0);
}
