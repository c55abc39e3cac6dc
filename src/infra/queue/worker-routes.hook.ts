import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../common/errors/index.js';
import { toErrorResponse } from '../../common/http/index.js';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';

const WORKER_ROUTES = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * WORKER_MODE=worker: the same image and entry point, but its listener is for
 * the orchestrator and Prometheus only. Every other path is a 404 in the
 * envelope before any guard or handler runs.
 */
@Injectable()
export class WorkerRoutesHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (this.config.workerMode !== 'worker') return;
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const answer = toErrorResponse(
      new AppError('NOT_FOUND', 'a worker serves only health and metrics'),
    );
    fastify.addHook('onRequest', (request, reply, done) => {
      const path = request.url.split('?', 1)[0];
      if (WORKER_ROUTES.has(path)) {
        done();
        return;
      }
      void reply
        .code(answer.status)
        .header('x-request-id', request.id)
        .send({ code: answer.code, message: answer.message, data: null, requestId: request.id });
    });
  }
}
