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
    fastify.addHook('onRequest', async (request) => {
      if (bearerTokenOf(request.headers.authorization) !== undefined) return;
      if (!mayUseCookie(request)) return;
      await sessions.lookUp(request);
    });
  }
}
