import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, rowForStatus } from '../errors/error-codes.js';
import { requestIdFor } from './request-id.js';
import { API_SECURITY_HEADERS } from './security-headers.js';

/*
 * Answers given before a request reaches our hooks and filter: Fastify's
 * router (bad URL encoding, an over-long parameter) and Node's HTTP parser
 * (bad framing, oversized headers, an unknown Expect). They are in the
 * envelope too, with a request id, and never echo the URL back.
 */

interface EdgeAnswer {
  status: number;
  code: number;
  message: string;
}

function answer(status: number, message?: string): EdgeAnswer {
  const row = rowForStatus(status);
  return { status, code: row.code, message: message ?? row.message };
}

function envelopeText(a: EdgeAnswer, requestId: string): string {
  return JSON.stringify({ code: a.code, message: a.message, data: null, requestId });
}

/** What Fastify's router refuses (its `frameworkErrors` option). */
export function routerErrorAnswer(code: string | undefined): EdgeAnswer {
  if (code === 'FST_ERR_MAX_PARAM_LENGTH') return answer(ERRORS.URI_TOO_LONG.status);
  if (code === 'FST_ERR_BAD_URL') return answer(400, 'malformed URL');
  return answer(400, 'bad request');
}

export function onFrameworkError(
  error: Error & { code?: string },
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const a = routerErrorAnswer(error.code);
  void reply
    .code(a.status)
    .headers(API_SECURITY_HEADERS)
    .header('x-request-id', request.id)
    .type('application/json; charset=utf-8')
    .send(envelopeText(a, request.id));
}

/**
 * Fastify's `rewriteUrl`. The asterisk-form target of `OPTIONS *` (RFC 9112
 * §3.2.4) matches no route, not even the 404 handler's, and falls to
 * Fastify's last resort, which runs none of our hooks (no request id, no
 * security headers) and logs the whole route table as a warning. As `/` it
 * is routed and refused like any other request. (The router resolves the
 * absolute form itself and refuses any other target as a bad URL.)
 */
export function routableUrl(req: IncomingMessage): string {
  return req.url === '*' ? '/' : (req.url ?? '/');
}

/** What Node's HTTP parser refuses, by its error code. */
export function clientErrorAnswer(code: string | undefined): EdgeAnswer {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return answer(ERRORS.HEADERS_TOO_LARGE.status);
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return answer(408, 'request timeout');
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CHUNK_SIZE':
      return answer(400, 'bad message framing');
    default:
      return answer(400, 'bad request');
  }
}

function rawResponse(a: EdgeAnswer, requestId: string): string {
  const body = envelopeText(a, requestId);
  const headers = {
    ...API_SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'x-request-id': requestId,
    connection: 'close',
  };
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status] ?? ''}\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * The server's `clientError` (Fastify's `clientErrorHandler` option): the
 * request never became one, so the id is always a new one.
 */
export function onClientError(err: Error & { code?: string }, socket: Socket): void {
  // A reset connection has no one left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(rawResponse(clientErrorAnswer(err.code), randomUUID()));
}

/**
 * An `Expect` other than 100-continue (Node's `checkExpectation`): 417 in the
 * envelope, where Node would write an empty one.
 */
export function onUnmetExpectation(req: IncomingMessage, res: ServerResponse): void {
  const id = requestIdFor(req);
  const body = envelopeText(answer(417, 'expectation not supported'), id);
  res.writeHead(417, {
    ...API_SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-request-id': id,
    connection: 'close',
  });
  res.end(body);
  req.resume();
}
