import { readFileSync } from 'node:fs';
import { loadConfig } from './app-config.js';
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

  const valueOf = (name: string) =>
    lines.find((line) => line.startsWith(`${name}=`))?.slice(name.length + 1);

  it('carries a JWT_SECRET placeholder that boot refuses with one line', () => {
    const placeholder = valueOf('JWT_SECRET');
    expect(placeholder?.length).toBeGreaterThanOrEqual(32);
    expect(() => loadConfig({ JWT_SECRET: placeholder })).toThrow(
      /^Invalid configuration: JWT_SECRET is the placeholder of \.env\.example: set a random one \(openssl rand -base64 48\)$/,
    );
    expect(() => loadConfig({ JWT_SECRET: `${placeholder}-but-changed` })).not.toThrow();
  });

  it('marks each line that leaves the embedded mode', () => {
    // The whole comment block above a variable (or above the group it starts).
    const blockAbove = (name: string) => {
      let i = lines.findIndex((line) => line.startsWith(`${name}=`)) - 1;
      const block: string[] = [];
      for (; i >= 0 && lines[i].startsWith('#'); i--) block.unshift(lines[i]);
      return block.join('\n');
    };
    const marked = documented
      .map((d) => d.name)
      .filter((name) => blockAbove(name).includes('[LEAVES EMBEDDED MODE]'));
    expect(marked).toEqual(['DATABASE_URL', 'REDIS_URL', 'WECHAT_APPID', 'WECHAT_PAY_MCHID']);
  });
});
