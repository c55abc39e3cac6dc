import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { API_TYPES_FILE, DOCUMENT_ENV, renderTypes } from '../scripts/sdk-types.mjs';
import { startEmbeddedTestApp, type TestApp } from './helpers/app.js';

/**
 * The SDK's types are the backend's contract: sdk/src/api-types.ts must be
 * what `npm run sdk:types` makes from today's /docs/json. A route, view or
 * DTO changed without regenerating them (and so without the SDK, which
 * `npm run typecheck` checks against them, following) fails here.
 */
describe('sdk/src/api-types.ts', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startEmbeddedTestApp(DOCUMENT_ENV);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('is what /docs/json generates (run `npm run sdk:types` after changing the contract)', async () => {
    const res = await app.http.get('/docs/json');
    expect(res.status).toBe(200);
    const generated = await renderTypes(res.body);
    expect(generated.includes('"/api/v1/orders/{id}/payment"')).toBe(true);
    // Compared as text, but reported as a count: a diff of 7,000 lines helps nobody.
    const committed = readFileSync(API_TYPES_FILE, 'utf8');
    const differing = generated.split('\n').filter((line, i) => line !== committed.split('\n')[i]);
    expect({ sameText: generated === committed, firstDifferences: differing.slice(0, 5) }).toEqual({
      sameText: true,
      firstDifferences: [],
    });
  });
});

const ROOT = new URL('..', import.meta.url).pathname;
const EXAMPLE = join(ROOT, 'examples/miniprogram');
/** What `npm run sdk:build` writes for the example: the SDK itself, here its sources. */
const EXAMPLE_SDK = join(EXAMPLE, 'lib/wx-mp-sdk.ts');
const FIT = join(ROOT, 'sdk/official-wx.fit.ts');

const filesUnder = (dir: string, keep: (name: string) => boolean): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter(keep)
    .map((name) => join(dir, name));

/**
 * Type-checks the SDK and the example mini-program (its JavaScript checked
 * too) against WeChat's own typings (miniprogram-api-typings), with `fit`, a
 * file that hands an official `WechatMiniprogram.Wx` to the SDK. Returns the
 * diagnostics, one line each.
 */
function diagnostics(fit: string): string[] {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2020,
    lib: ['lib.es2020.d.ts'],
    module: ts.ModuleKind.ES2020,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: ['miniprogram-api-typings'],
    typeRoots: [join(ROOT, 'node_modules')],
    strict: true,
    allowJs: true,
    checkJs: true,
    noEmit: true,
    skipLibCheck: false,
  };
  const virtual = new Map([
    [EXAMPLE_SDK, "export * from '../../../sdk/src/index.js';\n"],
    [FIT, fit],
  ]);
  const host = ts.createCompilerHost(options);
  const fileExists = host.fileExists.bind(host);
  const directoryExists = host.directoryExists!.bind(host);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (f) => virtual.has(f) || fileExists(f);
  host.directoryExists = (d) =>
    [...virtual.keys()].some((f) => f.startsWith(`${d}/`)) || directoryExists(d);
  host.readFile = (f) => virtual.get(f) ?? readFile(f);
  host.getSourceFile = (f, lang, ...rest) => {
    const text = virtual.get(f);
    return text === undefined
      ? getSourceFile(f, lang, ...rest)
      : ts.createSourceFile(f, text, lang);
  };
  const roots = [
    ...filesUnder(join(ROOT, 'sdk/src'), (n) => n.endsWith('.ts') && !n.endsWith('.spec.ts')),
    ...filesUnder(EXAMPLE, (n) => n.endsWith('.js')),
    FIT,
  ];
  const program = ts.createProgram(roots, options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file
      ? `${relative(ROOT, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : '';
    return `${where} TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

describe("the SDK and the example pages against WeChat's own typings", () => {
  it('check with the real WechatMiniprogram.Wx passed in, as option and as the global wx', () => {
    const fit = `import { createClient, Client } from './src/index.js';
declare const realWx: WechatMiniprogram.Wx;
export const passed: Client = createClient({ baseUrl: 'https://api.example.com', wx: realWx });
export const global: Client = createClient({ baseUrl: 'https://api.example.com', wx });
`;
    expect(diagnostics(fit)).toEqual([]);
  });

  it('catch a wx that is not the official one (the check can fail)', () => {
    const fit = `import { createClient } from './src/index.js';
declare const partial: Pick<WechatMiniprogram.Wx, 'request' | 'login'>;
createClient({ baseUrl: 'https://api.example.com', wx: partial });
`;
    const found = diagnostics(fit);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^sdk\/official-wx\.fit\.ts:3 TS2\d+: .*requestPayment/);
  });
});
