import { Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bearerTokenOf } from '../bearer-token.js';
import { ConsoleSessions } from './console-sessions.js';

/**
 * The routes a console cookie can authenticate: the API's. The console's
 * own routes and files are public, so the cookie the browser sends with
 * them costs no store read.
 */
function mayUseCookie(request: FastifyRequest): boolean {
  return request.url.startsWith('/api/v1/');
}

/**
 * Reads the console cookie's record before the guards run (the throttle
 * guard counts a signed-in request against its user, synchronously). A
 * request with a bearer token never reads it: the bearer wins.
 */
@Injectable()
export class ConsoleCookieHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly sessions: ConsoleSessions,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const sessions = this.sessions;
    // A callback hook, not an async one: most requests carry no cookie and
    // should not pay for a promise on this path.
    fastify.addHook('onRequest', (request, _reply, done) => {
      if (
        request.headers.cookie === undefined ||
        !mayUseCookie(request) ||
        bearerTokenOf(request.headers.authorization) !== undefined
      ) {
        done();
        return;
      }
      sessions.lookUp(request).then(() => done(), done);
    });
  }
}
