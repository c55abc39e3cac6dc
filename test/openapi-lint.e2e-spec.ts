import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { DOCUMENT_ENV, ROOT } from '../scripts/sdk-types.mjs';
import { startEmbeddedTestApp, type TestApp } from './helpers/app.js';
import { HTTP_METHODS } from './helpers/contract.js';

/**
 * /docs/json checked by tools other than our own: Redocly's linter with its
 * recommended rules (redocly.yaml), and a JSON Schema 2020-12 validator on
 * the schemas a client or mock server (Prism, say) reads as written.
 */
const REDOCLY = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js');

interface Problem {
  ruleId: string;
  severity: string;
  message: string;
  location: { pointer?: string }[];
}
interface Parameter {
  name: string;
  in: string;
  schema: Record<string, unknown>;
}
interface Operation {
  summary?: string;
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
}
interface Doc {
  openapi: string;
  paths: Record<string, Partial<Record<(typeof HTTP_METHODS)[number], Operation>>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
}

async function redoclyLint(document: unknown): Promise<Problem[]> {
  const dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
  try {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document));
    const args = [
      REDOCLY,
      'lint',
      file,
      '--config',
      join(ROOT, 'redocly.yaml'),
      '--format',
      'json',
    ];
    // Exit code 1 means problems were found: the JSON on stdout says which.
    const { stdout } = await promisify(execFile)(process.execPath, args, {
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      maxBuffer: 64 * 1024 * 1024,
    }).catch((err: { stdout?: string; stderr?: string }) => {
      if (!err.stdout) throw new Error(`redocly lint did not run: ${err.stderr}`);
      return { stdout: err.stdout };
    });
    return (JSON.parse(stdout) as { problems: Problem[] }).problems;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every schema object in `node`, with where it is. */
function* schemasIn(node: unknown, at = '#'): Generator<[string, Record<string, unknown>]> {
  if (Array.isArray(node)) {
    for (const [i, v] of node.entries()) yield* schemasIn(v, `${at}/${i}`);
  } else if (node && typeof node === 'object') {
    yield [at, node as Record<string, unknown>];
    for (const [k, v] of Object.entries(node)) yield* schemasIn(v, `${at}/${k}`);
  }
}

describe('The OpenAPI document, to outside tools', () => {
  let app: TestApp;
  let doc: Doc;
  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      HTTP_METHODS.flatMap((m) =>
        item[m] ? [{ key: `${m.toUpperCase()} ${path}`, op: item[m] }] : [],
      ),
    );

  beforeAll(async () => {
    app = await startEmbeddedTestApp(DOCUMENT_ENV);
    const res = await app.http.get('/docs/json');
    expect(res.status).toBe(200);
    doc = res.body as Doc;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('passes redocly lint with the recommended rules: no error, no warning', async () => {
    const problems = await redoclyLint(doc);
    expect(
      problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`),
    ).toEqual([]);
  });

  it('sums up each operation in words of its own, not its method and path', () => {
    const summaries = operations().map(({ key, op }) => ({ key, summary: op.summary ?? '' }));
    // "GET /api/v1/products/{id}" or "AdminProductsController_update" is no summary.
    const bad = summaries.filter(
      ({ summary }) => summary.length < 5 || /^[A-Z]+ \/|\/api\/|_/.test(summary),
    );
    expect(bad).toEqual([]);
    const twice = summaries.filter(
      (s, i) => summaries.findIndex((t) => t.summary === s.summary) !== i,
    );
    expect(twice).toEqual([]);
  });

  it('marks public routes with an empty security and the others with the bearer token', () => {
    const security = (key: string) => operations().find((o) => o.key === key)?.op.security;
    expect(security('POST /api/v1/auth/login')).toEqual([]);
    expect(security('GET /api/v1/products/{id}')).toEqual([]);
    expect(security('GET /metrics')).toEqual([]);
    expect(security('GET /api/v1/orders/{id}')).toEqual([{ bearer: [] }]);
    expect(security('POST /api/v1/admin/orders/{id}/ship')).toEqual([{ bearer: [] }]);
  });

  it('writes nullable enums so that a validator checks them: null passes, a stray value fails', () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    // 3.0's `nullable` has no meaning in 3.1: a leftover would let null through unchecked or refuse it.
    expect([...schemasIn(doc)].filter(([, s]) => 'nullable' in s).map(([at]) => at)).toEqual([]);
    const ajv = new Ajv2020({ strict: false });
    const cancelReason = ajv.compile(
      (doc.components.schemas.OrderView?.properties?.cancelReason ?? false) as object,
    );
    expect([null, 'user', 'payment_timeout', 'admin'].map((v) => cancelReason(v))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['bogus', '', 1, false].map((v) => cancelReason(v))).toEqual([
      false,
      false,
      false,
      false,
    ]);
    // Every other nullable enum of the document the same way.
    const nullableEnums = [...schemasIn(doc)].filter(
      ([, s]) =>
        Array.isArray(s.anyOf) &&
        s.anyOf.some((b: { type?: unknown }) => b.type === 'null') &&
        s.anyOf.some((b: { enum?: unknown }) => Array.isArray(b.enum)),
    );
    expect(nullableEnums.map(([at]) => at)).toContain(
      '#/components/schemas/OrderView/properties/cancelReason',
    );
    const unchecked = nullableEnums.filter(([, schema]) => {
      const validate = ajv.compile(schema);
      return !validate(null) || validate('\u0000not-a-value');
    });
    expect(unchecked.map(([at]) => at)).toEqual([]);
  });

  it('types path row ids as the views type their ids: integers 1 to 2147483647', () => {
    const orderId = (doc.components.schemas.OrderView?.properties?.id ?? {}) as object;
    const { example: _example, ...viewId } = orderId as { example?: unknown };
    expect(viewId).toEqual({ type: 'integer', minimum: 1, maximum: 2147483647 });
    for (const name of ['ProductView', 'FlashSaleView', 'ContentFlagView']) {
      expect(doc.components.schemas[name]?.properties?.id).toMatchObject(viewId);
    }
    const rowIds = operations().flatMap(({ key, op }) =>
      (op.parameters ?? [])
        .filter((p) => p.in === 'path' && (p.name === 'id' || p.name === 'orderId'))
        .map((p) => ({ key, schema: p.schema })),
    );
    expect(rowIds.length).toBeGreaterThanOrEqual(14);
    expect(rowIds.filter((p) => JSON.stringify(p.schema) !== JSON.stringify(viewId))).toEqual([]);
  });
});
