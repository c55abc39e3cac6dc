import { RequestMethod } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  DocumentBuilder,
  SwaggerModule,
  type OpenAPIObject,
  type OperationObject,
  type ParameterObject,
  type ResponseObject,
  type SchemaObject,
} from '@nestjs/swagger';
import { z } from 'zod';
import type { ErrorReason } from '../../common/errors/index.js';
import { apiViews, MAX_INT } from '../../common/http/index.js';
import { dtoProperties, dtoSchema } from './dto-schema.js';
import { binaryResponse, COMPONENTS, errorResponses, successResponse } from './responses.js';
import { operationId, routeFacts, type RouteFacts } from './routes.js';

const ref = (name: string) => `#/components/schemas/${name}`;
const BODY_METHODS = new Set([RequestMethod.POST, RequestMethod.PUT, RequestMethod.PATCH]);

/**
 * The document is OpenAPI 3.1, whose schemas are JSON Schema 2020-12: a
 * nullable enum is `anyOf: [{ enum }, { type: 'null' }]`, which validators
 * check as written. (3.0 has no such form: `nullable` needs the null among
 * the enum's values, and Prism then skips validating the whole answer.)
 */
const JSON_SCHEMA = { target: 'draft-2020-12' } as const;

/** The view components, generated from their zod schemas (see common/http/api-view.ts). */
function viewSchemas(): Record<string, SchemaObject> {
  const { schemas } = z.toJSONSchema(apiViews, { ...JSON_SCHEMA, uri: ref });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $id: _id, $schema: _s, ...schema }]) => [
      id,
      schema as SchemaObject,
    ]),
  );
}

/** `data` of an answer: a reference to its view (or a list of one), or the schema itself (null, say). */
function dataSchema(data: z.ZodType): SchemaObject | { $ref: string } {
  const id = apiViews.get(data)?.id;
  if (id) return { $ref: ref(id) };
  if (data instanceof z.ZodArray) {
    const itemId = apiViews.get(data.element as z.ZodType)?.id;
    if (itemId) return { type: 'array', items: { $ref: ref(itemId) } };
  }
  const { $schema: _s, ...schema } = z.toJSONSchema(data, JSON_SCHEMA);
  return schema as SchemaObject;
}

/** The errors a route can answer, from what its metadata says about it. */
function impliedErrors(route: RouteFacts, hasPathId: boolean): ErrorReason[] {
  const reasons: ErrorReason[] = ['VALIDATION_FAILED', 'INTERNAL', 'UNAVAILABLE'];
  if (route.throttled) reasons.push('THROTTLED');
  // An operator's switch, or `readOnly` for any write it does not let through.
  const write = route.method !== RequestMethod.GET && route.method !== RequestMethod.HEAD;
  if (route.switchable || (write && !route.writableWhenReadOnly)) reasons.push('FEATURE_OFF');
  if (route.authenticated) reasons.push('UNAUTHORIZED', 'TOKEN_EXPIRED', 'SESSION_REVOKED');
  if (route.roles.length > 0) reasons.push('FORBIDDEN');
  if (hasPathId) reasons.push('NOT_FOUND', 'URI_TOO_LONG');
  if (BODY_METHODS.has(route.method)) reasons.push('PAYLOAD_TOO_LARGE');
  // Fastify parses a body sent with any method but GET and HEAD, and refuses unknown types.
  if (route.method !== RequestMethod.GET && route.method !== RequestMethod.HEAD) {
    reasons.push('UNSUPPORTED_MEDIA_TYPE');
  }
  return reasons;
}

interface Dtos {
  ref: (cls: Function) => string;
  schemas: Record<string, SchemaObject>;
}

/** Request DTO components, each described once from its validators. */
function dtoRegistry(): Dtos {
  const schemas: Record<string, SchemaObject> = {};
  const dtoRef = (cls: Function): string => {
    if (!(cls.name in schemas)) {
      // Placed first, so a class that refers back to itself ends.
      schemas[cls.name] = {};
      schemas[cls.name] = dtoSchema(cls, dtoRef);
    }
    return ref(cls.name);
  };
  return { schemas, ref: dtoRef };
}

/** Path parameters read by parseId: row ids, the type of the `id` fields of the views. */
const ROW_ID_PARAMS = new Set(['id', 'orderId']);
const isRowId = (p: ParameterObject) => p.in === 'path' && ROW_ID_PARAMS.has(p.name);

/**
 * A path row id as parseId reads it: the views' `id` schema. Digits outside
 * it (0, or beyond the INTEGER columns) are a 404, anything else a 400.
 */
const ROW_ID_PARAM: Pick<ParameterObject, 'description' | 'schema'> = {
  description: `a row id, 1 to ${MAX_INT} (other digits: 404)`,
  schema: { type: 'integer', minimum: 1, maximum: MAX_INT },
};

function documentOperation(op: OperationObject, route: RouteFacts, dtos: Dtos): void {
  const params = (op.parameters ?? []) as ParameterObject[];
  const hasPathId = params.some(isRowId);
  // Public routes say so: an operation without `security` would fall back to the document's.
  op.security = route.authenticated ? [{ bearer: [] }] : [];
  // Query DTOs are described from their validators.
  op.parameters = [
    ...params
      .filter((p) => p.in !== 'query')
      .map((p) => (isRowId(p) ? { ...p, ...ROW_ID_PARAM } : p)),
    ...(route.query
      ? dtoProperties(route.query, dtos.ref).map(({ name, required, schema }) => {
          const { description, ...rest } = schema;
          return { name, in: 'query' as const, required, description, schema: rest };
        })
      : []),
  ];
  if (route.body) {
    op.requestBody = {
      required: true,
      content: { 'application/json': { schema: { $ref: dtos.ref(route.body) } } },
    };
  }
  const responses: Record<string, ResponseObject> = {};
  for (const answer of [...route.answers].sort((a, b) => (a.status ?? 200) - (b.status ?? 200))) {
    const description = answer.description ?? 'ok';
    responses[String(answer.status ?? 200)] =
      'mediaType' in answer.data
        ? binaryResponse(description, answer.data.mediaType, answer.headers)
        : successResponse(description, dataSchema(answer.data), answer.headers);
  }
  const declared = route.answers.flatMap((a) => a.errors ?? []);
  Object.assign(responses, errorResponses([...impliedErrors(route, hasPathId), ...declared]));
  op.responses = responses;
  if (route.roles.length > 0) {
    Object.assign(op, { 'x-roles': route.roles });
    op.description = [op.description, `Requires the role: ${route.roles.join(' or ')}.`]
      .filter(Boolean)
      .join(' ');
  }
}

/**
 * /metrics is a plain Fastify route (infra/metrics); it is described here.
 * Its only 4xx are the router's, which any request can get (info.description).
 */
const METRICS_PATH = {
  get: {
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    tags: ['operations'],
    description: 'Prometheus text format; for operators (the shipped nginx does not expose it).',
    security: [],
    responses: {
      '200': {
        description: 'the metrics',
        content: { 'text/plain': { schema: { type: 'string' } } },
      },
      ...errorResponses(['URI_TOO_LONG', 'HEADERS_TOO_LARGE']),
    },
  },
};

/**
 * WeChat Pay's notification route answers in WeChat Pay's format, not the
 * envelope (docs/http-api.md), so its answers are described here rather than from the
 * envelope's pieces; its request is WeChat Pay's own signed, encrypted JSON.
 */
const FAIL_ANSWER = {
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: { code: { type: 'string', enum: ['FAIL'] }, message: { type: 'string' } },
        required: ['code', 'message'],
        additionalProperties: false,
      },
    },
  },
};
const NOTIFY_PATH = '/api/v1/payments/wechat/notify';
const NOTIFY_RESPONSES = {
  '204': { description: 'applied (or already applied): no body' },
  '400': {
    description: 'the resource does not decrypt or does not match its order',
    ...FAIL_ANSWER,
  },
  '401': {
    description:
      'bad signature, unknown serial, a timestamp 5 min or more off, or a WECHATPAY/SIGNTEST/ probe',
    ...FAIL_ANSWER,
  },
  '500': { description: 'not applied this time (our side): WeChat Pay retries', ...FAIL_ANSWER },
};

/**
 * The OpenAPI document of the app: paths and parameters found by
 * @nestjs/swagger, then every operation completed from the metadata the
 * code runs on (views, DTO validators, auth and throttle decorators, the
 * error table), so the document cannot say something the code does not do.
 */
export function buildDocument(app: NestFastifyApplication): OpenAPIObject {
  const routes = routeFacts(app);
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('WeChat mini-program backend')
      .setDescription(
        'Every JSON answer is an envelope `{ code, message, data, requestId }`; `code` is 0 on success, ' +
          'otherwise a business code from the error table (README). Besides the answers listed per route, ' +
          'any request can get 405/40500 (method not allowed on an existing path, with Allow), ' +
          '414/41400 (URL too long) and 431/43100 (headers too large) from the router.',
      )
      .setVersion('1')
      .setOpenAPIVersion('3.1.0')
      .setLicense('MIT', 'https://opensource.org/licenses/MIT')
      // Paths are absolute (/api/v1/…, /health/…): the server is wherever the document was fetched from.
      .addServer('/')
      .addBearerAuth()
      .build(),
    { operationIdFactory: operationId },
  );
  const dtos = dtoRegistry();
  for (const item of Object.values(document.paths)) {
    for (const op of Object.values(item) as unknown[]) {
      const operation = op as OperationObject;
      const route = operation?.operationId ? routes.get(operation.operationId) : undefined;
      if (route) documentOperation(operation, route, dtos);
    }
  }
  document.paths['/metrics'] = METRICS_PATH as OpenAPIObject['paths'][string];
  const notify = document.paths[NOTIFY_PATH]?.post;
  if (notify) notify.responses = NOTIFY_RESPONSES as OperationObject['responses'];
  document.components = {
    ...document.components,
    schemas: { ...COMPONENTS.schemas, ...viewSchemas(), ...dtos.schemas },
    headers: COMPONENTS.headers as NonNullable<OpenAPIObject['components']>['headers'],
  };
  return document;
}

/** OpenAPI UI at /docs and the JSON document at /docs/json (docs/http-api.md). */
export function setupDocs(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, () => buildDocument(app), { jsonDocumentUrl: 'docs/json' });
}
