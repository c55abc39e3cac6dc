import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../common/errors/index.js';
import { toErrorResponse } from '../../common/http/index.js';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { ShutdownState } from './shutdown-state.js';

const RETRYABLE_METHODS = new Set(['GET', 'HEAD']);

/**
 * Behind a proxy (TRUST_PROXY set), GET and HEAD requests that arrive during
 * the drain answer 503/50300 at once. nginx open source has no active health
 * checks, so this is how it learns that a replica is leaving: it retries the
 * request on the next replica (proxy_next_upstream http_503) and, with
 * max_fails=1, routes nothing to this one (POSTs included) for fail_timeout,
 * which is longer than SHUTDOWN_DRAIN_MS. By the time the listener closes no
 * new request is on its way here, so none is cut. Other methods are served
 * normally: nginx must never replay them. Health probes keep their own answers.
 * Without a proxy the drain serves everything, since no one would retry.
 */
@Injectable()
export class ProxyDrainHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly state: ShutdownState,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (this.config.http.trustProxy.length === 0) return;
    const state = this.state;
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const answer = toErrorResponse(new AppError('UNAVAILABLE', 'shutting down'));
    fastify.addHook('onRequest', (request, reply, done) => {
      if (
        !state.isDraining ||
        !RETRYABLE_METHODS.has(request.method) ||
        request.url.startsWith('/health/')
      ) {
        done();
        return;
      }
      void reply
        .code(answer.status)
        .header('connection', 'close')
        .header('x-request-id', request.id)
        .send({ code: answer.code, message: answer.message, data: null, requestId: request.id });
    });
  }
}
