import { isSendableText } from './sendable-text.decorator.js';

describe('isSendableText', () => {
  it.each([
    ['plain ASCII', 'a+b/c=d&x y%zz?#'],
    ['Chinese', '绿茶'],
    ['a surrogate pair (emoji)', 'tea 🍵'],
  ])('accepts %s', (_label, value) => expect(isSendableText(value)).toBe(true));

  it.each([
    ['a lone high surrogate', '\ud800'],
    ['a lone low surrogate', 'a\udc00b'],
    ['a high surrogate at the end', 'tea\ud83c'],
    ['two high surrogates', '\ud83c\ud83c\udf75'],
    ['a NUL', 'a\u0000b'],
    ['a newline', 'a\nb'],
    ['DEL', '\u007f'],
    ['a C1 control', '\u0085'],
    ['a non-string', 42],
  ])('refuses %s', (_label, value) => expect(isSendableText(value)).toBe(false));
});
