import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { describeForLog, toErrorResponse } from './error-response.js';

/**
 * Every error leaves through here, as an envelope: Nest also routes Fastify's
 * own errors (malformed JSON, body too large) and unknown routes to it.
 */
@Catch()
export class EnvelopeExceptionFilter implements ExceptionFilter {
  catch(err: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendError(err, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }
}

/** The error's envelope, and its log line when it deserves one. */
export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const res = toErrorResponse(err);
  if (res.unexpected) {
    // Not under `err`: pino's error serializer would add the stack.
    request.log.error({ error: describeForLog(err) }, 'unexpected error');
  } else if (res.dependencyFailed) {
    request.log.warn({ error: describeForLog(err) }, 'dependency failed');
  } else if (res.clientAborted) {
    request.log.info('client aborted the request');
  }
  if (reply.sent) return;
  if (res.headers) void reply.headers(res.headers);
  void reply
    .status(res.status)
    .type('application/json; charset=utf-8')
    .send({ code: res.code, message: res.message, data: res.data, requestId: request.id });
}
