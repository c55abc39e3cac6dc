import { bundleSdk, sizeOf } from '../scripts/sdk-build.mjs';

/**
 * The SDK as it ships to a mini-program (scripts/sdk-build.mjs): one ES
 * module with nothing to load at run time and a size budget, so a dependency
 * or a Node API pulled in by accident fails here rather than in WeChat.
 */
describe('the SDK bundle', () => {
  it('is one ES module that loads nothing and stays under 6 KB gzipped', async () => {
    const code = await bundleSdk();
    expect(code).toMatch(/export\s*\{[^}]*createClient/);
    expect(code).not.toMatch(/\bimport\s*[{*\w"']|\brequire\s*\(|\bimport\s*\(/);
    expect(code).not.toMatch(/\b(process|Buffer|__dirname)\b/);
    const { gzip } = sizeOf(code);
    expect(gzip).toBeLessThan(6 * 1024);
  });
});
