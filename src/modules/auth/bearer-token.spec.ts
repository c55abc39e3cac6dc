import { bearerTokenOf } from './bearer-token.js';

describe('bearerTokenOf', () => {
  it.each(['Bearer abc.def', 'bearer abc.def', 'BEARER abc.def', 'bEaReR  abc.def '])(
    'reads the token of %j (the scheme is case-insensitive)',
    (header) => {
      expect(bearerTokenOf(header)).toBe('abc.def');
    },
  );

  it.each([undefined, '', 'Bearer', 'Bearer ', 'Basic abc', 'Bearerabc', 'Token abc'])(
    'finds no token in %j',
    (header) => {
      expect(bearerTokenOf(header)).toBeUndefined();
    },
  );
});
