import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/**
 * Holds every answer of an e2e app to the OpenAPI document it serves at
 * /docs/json: an answer whose route is documented must have a status the
 * document lists for that route, and a body that its schema accepts. Every
 * spec that starts an app through startTestApp runs this check, so the
 * document cannot drift from what the code answers.
 */

type OpenApi = {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown> };
};
interface Operation {
  operationId?: string;
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
export const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** `/api/v1/products/:id` (Fastify) → `/api/v1/products/{id}` (OpenAPI). */
export const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** An operation is under contract once it documents a success answer (JSON, or bytes of a media type). */
export function documentsSuccess(op: Operation): boolean {
  return Object.entries(op.responses ?? {}).some(
    ([status, r]) =>
      status.startsWith('2') && Object.values(r.content ?? {}).some((c) => c?.schema),
  );
}

/** The document's component schemas are registered as one schema's $defs; references follow. */
const rooted = (schema: unknown) =>
  JSON.parse(
    JSON.stringify(schema).replaceAll('"#/components/schemas/', '"openapi#/$defs/'),
  ) as Record<string, unknown>;

/** The document is OpenAPI 3.1: its schemas are JSON Schema 2020-12. */
export class ContractChecker {
  private readonly ajv = addFormats(new Ajv2020({ strict: true, allErrors: true }));
  private readonly validators = new Map<string, ValidateFunction>();
  /** `METHOD /path STATUS` of every answer checked. */
  readonly seen = new Set<string>();
  readonly violations: string[] = [];

  constructor(readonly document: OpenApi) {
    this.ajv.addKeyword('example');
    this.ajv.addSchema({ $id: 'openapi', $defs: rooted(document.components?.schemas ?? {}) });
  }

  private validator(key: string, schema: unknown): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(rooted(schema));
      this.validators.set(key, validate);
    }
    return validate;
  }

  /** Checks one answer; returns what is wrong with it, if anything (also kept in `violations`). */
  check(method: string, routeUrl: string, status: number, body: unknown): string | undefined {
    const path = openApiPath(routeUrl);
    const op = this.document.paths[path]?.[method.toLowerCase()];
    if (!op || !documentsSuccess(op)) return undefined;
    const where = `${method.toUpperCase()} ${path} ${status}`;
    this.seen.add(where);
    const schema = op.responses?.[String(status)]?.content?.['application/json']?.schema;
    let problem: string | undefined;
    if (!op.responses?.[String(status)]) {
      problem = `${where}: status not in the document (body ${JSON.stringify(body)?.slice(0, 300)})`;
    } else if (schema) {
      const validate = this.validator(where, schema);
      if (!validate(body)) {
        problem = `${where}: ${this.ajv.errorsText(validate.errors)} in ${JSON.stringify(body)?.slice(0, 300)}`;
      }
    }
    if (problem) this.violations.push(problem);
    return problem;
  }

  /** Checks an answer that is not JSON (Fastify serializes none of those): its status and media type. */
  checkBytes(method: string, routeUrl: string, status: number, mediaType: string): void {
    const path = openApiPath(routeUrl);
    const op = this.document.paths[path]?.[method.toLowerCase()];
    if (!op || !documentsSuccess(op)) return;
    const where = `${method.toUpperCase()} ${path} ${status}`;
    this.seen.add(where);
    if (!op.responses?.[String(status)]?.content?.[mediaType]) {
      this.violations.push(`${where}: ${mediaType} answer not in the document`);
    }
  }
}

export interface ContractHook {
  /** Set once the app is ready, from its own /docs/json; undefined with DOCS_ENABLED=false. */
  checker?: ContractChecker;
  /** Every route the app registered (`GET /api/v1/products/:id`), HEAD excluded. */
  routes: string[];
}

/**
 * Installs the check on an app before it is initialised: routes are
 * collected as they are registered and every object answer is checked as
 * Fastify is about to serialize it, after the envelope is applied.
 */
export function installContractCheck(app: NestFastifyApplication): ContractHook {
  const hook: ContractHook = { routes: [] };
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') hook.routes.push(`${method} ${route.url}`);
    }
  });
  fastify.addHook('preSerialization', (request, reply, payload, done) => {
    const url = request.routeOptions.url;
    if (hook.checker && url) {
      // What the client will parse: the JSON text, not the object.
      const body = JSON.parse(JSON.stringify(payload ?? null)) as unknown;
      try {
        hook.checker.check(request.method, url, reply.statusCode, body);
      } catch (err) {
        // A schema ajv cannot compile is a defect of the document, not of this answer's request.
        hook.checker.violations.push(`${request.method} ${url}: ${(err as Error).message}`);
      }
    }
    done(null, payload);
  });
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const url = request.routeOptions.url;
    const mediaType = String(reply.getHeader('content-type') ?? '').split(';')[0];
    // JSON answers were checked before serialization; the rest (a PNG, /metrics) only here.
    if (hook.checker && url && mediaType !== 'application/json') {
      hook.checker.checkBytes(request.method, url, reply.statusCode, mediaType);
    }
    done(null, payload);
  });
  return hook;
}

/** Loads the document the app serves; afterwards its answers are checked. */
export async function loadContract(app: NestFastifyApplication, hook: ContractHook) {
  const res = await app.getHttpAdapter().getInstance().inject({ url: '/docs/json' });
  if (res.statusCode === 200) hook.checker = new ContractChecker(res.json<OpenApi>());
}
