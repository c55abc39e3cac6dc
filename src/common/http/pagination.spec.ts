import { reasonOf } from '../../../test/helpers/reason-of.js';
import { idCursor, parseId } from './pagination.js';

describe('idCursor', () => {
  const orders = idCursor('o1');
  const products = idCursor('p1');

  it('round-trips ids and reads no cursor as the first page', () => {
    expect(orders.decode(orders.encode(42))).toBe(42);
    expect(orders.decode(undefined)).toBeUndefined();
    expect(orders.decode('')).toBeUndefined();
  });

  it.each([
    ['another list', () => products.encode(42)],
    ['not base64url', () => '!!'],
    ['a zero id', () => Buffer.from('o1:0').toString('base64url')],
    ['an id past the column', () => Buffer.from('o1:9999999999').toString('base64url')],
  ])('refuses a cursor of %s with 400', (_label, make) => {
    expect(reasonOf(() => orders.decode(make()))).toBe('VALIDATION_FAILED');
  });
});

describe('parseId', () => {
  it('parses digits, 400 for anything else, 404 beyond the column range', () => {
    expect(parseId('17', 'order')).toBe(17);
    expect(reasonOf(() => parseId('1.5', 'order'))).toBe('VALIDATION_FAILED');
    expect(reasonOf(() => parseId('abc', 'order'))).toBe('VALIDATION_FAILED');
    expect(reasonOf(() => parseId('0', 'order'))).toBe('NOT_FOUND');
    expect(reasonOf(() => parseId('99999999999', 'order'))).toBe('NOT_FOUND');
  });
});
