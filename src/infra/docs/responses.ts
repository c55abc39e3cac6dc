import type { ResponseObject, SchemaObject } from '@nestjs/swagger';
import { ERRORS, type ErrorReason } from '../../common/errors/index.js';
import { REQUEST_ID_PATTERN } from '../../common/http/index.js';

/** Shared pieces of the document, under components. */
export const COMPONENTS = {
  schemas: {
    RequestId: {
      type: 'string',
      pattern: REQUEST_ID_PATTERN.source,
      description: 'equals the X-Request-Id response header',
    },
    FieldError: {
      type: 'object',
      properties: {
        field: { type: 'string', example: 'items[0].quantity' },
        message: { type: 'string' },
      },
      required: ['field', 'message'],
      additionalProperties: false,
    },
  } satisfies Record<string, SchemaObject>,
  headers: {
    'X-Request-Id': {
      description: 'the request id (also `requestId` in the body)',
      schema: { $ref: '#/components/schemas/RequestId' },
    },
  },
};

const REQUEST_ID = { $ref: '#/components/schemas/RequestId' };
const X_REQUEST_ID = { $ref: '#/components/headers/X-Request-Id' };

/** `{ code: 0, message: "ok", data, requestId }` around a route's `data` schema. */
export function successResponse(
  description: string,
  data: SchemaObject | { $ref: string },
  headers: Record<string, unknown> = {},
): ResponseObject {
  return {
    description,
    headers: { 'X-Request-Id': X_REQUEST_ID, ...headers } as ResponseObject['headers'],
    content: {
      'application/json': {
        schema: {
          type: 'object',
          properties: {
            code: { type: 'integer', enum: [0] },
            message: { type: 'string', enum: ['ok'] },
            data,
            requestId: REQUEST_ID,
          },
          required: ['code', 'message', 'data', 'requestId'],
          additionalProperties: false,
        },
      },
    },
  };
}

/** Raw bytes of one media type (not in the envelope; docs/http-api.md names the exceptions). */
export function binaryResponse(
  description: string,
  mediaType: string,
  headers: Record<string, unknown> = {},
): ResponseObject {
  return {
    description,
    headers: { 'X-Request-Id': X_REQUEST_ID, ...headers } as ResponseObject['headers'],
    content: { [mediaType]: { schema: { type: 'string', format: 'binary' } } },
  };
}

/**
 * Validation errors carry `data.errors` (docs/http-api.md); other errors a
 * detail object or null.
 */
function errorData(status: number): SchemaObject {
  if (status !== 400) return { type: ['object', 'null'] };
  return {
    type: ['object', 'null'],
    properties: { errors: { type: 'array', items: { $ref: '#/components/schemas/FieldError' } } },
    additionalProperties: false,
  };
}

/** One response per HTTP status, listing the business codes of the error table it can carry. */
export function errorResponses(reasons: Iterable<ErrorReason>): Record<string, ResponseObject> {
  const byStatus = new Map<number, ErrorReason[]>();
  for (const reason of new Set(reasons)) {
    const { status } = ERRORS[reason];
    byStatus.set(status, [...(byStatus.get(status) ?? []), reason]);
  }
  const responses: Record<string, ResponseObject> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    const rows = list.map((r) => ERRORS[r]).sort((a, b) => a.code - b.code);
    responses[String(status)] = {
      description: rows.map((r) => `${r.code}: ${r.message}`).join('; '),
      headers: {
        'X-Request-Id': X_REQUEST_ID,
        ...(status === 429 || status === 503
          ? { 'Retry-After': { description: 'seconds', schema: { type: 'integer' } } }
          : {}),
      } as ResponseObject['headers'],
      content: {
        'application/json': {
          schema: {
            type: 'object',
            properties: {
              code: { type: 'integer', enum: rows.map((r) => r.code) },
              message: { type: 'string' },
              data: errorData(status),
              requestId: REQUEST_ID,
            },
            required: ['code', 'message', 'data', 'requestId'],
            additionalProperties: false,
          },
          examples: Object.fromEntries(
            rows.map((r) => [
              String(r.code),
              {
                summary: r.message,
                value: { code: r.code, message: r.message, data: null, requestId: 'f3b2c1d0' },
              },
            ]),
          ),
        },
      },
    };
  }
  return responses;
}
