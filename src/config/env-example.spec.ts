import { readFileSync } from 'node:fs';
import { envSchema } from './env.schema.js';

describe('.env.example', () => {
  const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
  const lines = text.split('\n');
  const isVariable = (line: string) => /^[A-Z][A-Z0-9_]*=/.test(line);
  const documented = lines.flatMap((line, i) => {
    if (!isVariable(line)) return [];
    // Consecutive variables may share the comment above the first of them.
    let above = i - 1;
    while (above >= 0 && isVariable(lines[above])) above--;
    return [{ name: line.slice(0, line.indexOf('=')), comment: lines[above] ?? '' }];
  });

  it('lists every variable of the schema, and nothing else', () => {
    expect(documented.map((d) => d.name).sort()).toEqual(Object.keys(envSchema.shape).sort());
  });

  it('explains every variable in a comment', () => {
    expect(documented.filter((d) => !d.comment.startsWith('#')).map((d) => d.name)).toEqual([]);
  });
});
