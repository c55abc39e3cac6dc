import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrations } from './index.js';

describe('migrations/index.ts', () => {
  it('lists every migration file, oldest first', () => {
    const dir = dirname(fileURLToPath(import.meta.url));
    const files = readdirSync(dir)
      .filter((f) => /^\d+-.+\.ts$/.test(f))
      .sort();
    const expected = files.map((f) => {
      const [timestamp, name] = f.replace(/\.ts$/, '').split('-');
      return `${name}${timestamp}`;
    });
    expect(migrations.map((m) => m.name)).toEqual(expected);
  });
});
