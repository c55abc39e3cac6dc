import { MAX_JSON_DEPTH, nestsDeeperThan, parseJsonBody } from './json-body.parser.js';

describe('nestsDeeperThan', () => {
  it('counts objects and arrays, not brackets inside strings', () => {
    expect(nestsDeeperThan('{"a":[{"b":1}]}', 3)).toBe(false);
    expect(nestsDeeperThan('{"a":[{"b":[1]}]}', 3)).toBe(true);
    expect(nestsDeeperThan(`{"a":"${'['.repeat(100)}"}`, 1)).toBe(false);
    // An escaped quote does not end the string.
    expect(nestsDeeperThan(`{"a":"\\"${'['.repeat(100)}"}`, 1)).toBe(false);
  });
});

describe('parseJsonBody', () => {
  it('parses JSON up to the depth limit', () => {
    const deepest = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    expect(parseJsonBody(deepest)).toBeInstanceOf(Array);
    expect(parseJsonBody('{"code":"abc"}')).toEqual({ code: 'abc' });
  });

  it.each([
    [
      'one level too deep',
      '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1),
      'JSON nested deeper than 32 levels',
    ],
    [
      '2,000 levels (a 4 KB body)',
      '['.repeat(2000) + ']'.repeat(2000),
      'JSON nested deeper than 32 levels',
    ],
    ['malformed', '{"a":', 'malformed JSON body'],
    ['empty', '', 'empty JSON body'],
    ['a __proto__ key', '{"__proto__":{"admin":true}}', 'malformed JSON body'],
    [
      'a constructor.prototype key',
      '{"constructor":{"prototype":{"admin":true}}}',
      'malformed JSON body',
    ],
  ])('refuses %s with a 400 reason', (_label, text, message) => {
    expect(() => parseJsonBody(text)).toThrow(
      expect.objectContaining({ reason: 'VALIDATION_FAILED', message }),
    );
  });
});
