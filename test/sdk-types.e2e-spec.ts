import { readFileSync } from 'node:fs';
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
