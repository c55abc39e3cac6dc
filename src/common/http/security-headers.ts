import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * The headers helmet sets for these options, computed once. helmet's
 * middleware (and @fastify/helmet, which rebuilds it on every request) costs
 * about a tenth of a cached request's CPU; its headers never depend on the
 * request as long as no CSP directive is a function, so a static map applied
 * with `reply.headers()` is the same answer for a fraction of the work.
 */
export function securityHeaders(options: Readonly<HelmetOptions>): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: number | string | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err) => {
    failure = err;
  });
  if (failure) throw failure;
  return headers;
}

/**
 * JSON API responses: what OWASP's REST cheat sheet asks of an API (nosniff,
 * HSTS, a CSP and X-Frame-Options that allow nothing, no referrer). helmet's
 * other defaults (COOP, Origin-Agent-Cluster, DNS prefetch, IE's download
 * and XSS switches, Flash's cross-domain policies) only mean something to a
 * document a browser renders, which no API answer is; each costs every
 * answer a header to validate and write (docs/benchmarks.md).
 */
export const API_SECURITY_HEADERS = securityHeaders({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  xFrameOptions: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
});

/** The OpenAPI UI at /docs needs inline styles and scripts. */
export const DOCS_SECURITY_HEADERS = securityHeaders({
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      scriptSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
    },
  },
});

/**
 * The staff console at /console/ (docs/console.md): its own files only, no
 * inline script or style, never in a frame, no referrer. The console reads
 * the session through an HttpOnly cookie, so even a script that got in
 * could not take the session away with it.
 */
export const CONSOLE_SECURITY_HEADERS = securityHeaders({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      objectSrc: ["'none'"],
    },
  },
  referrerPolicy: { policy: 'no-referrer' },
});
