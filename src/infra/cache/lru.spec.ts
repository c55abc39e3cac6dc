import { boundedLru } from './lru.js';

const item = (size = 1) => ({ size });

describe('boundedLru', () => {
  it('evicts the least recently used entry beyond the entry bound', () => {
    const removed: string[] = [];
    const lru = boundedLru(2, 1_000, (key) => removed.push(key));
    lru.set('a', item());
    lru.set('b', item());
    lru.get('a');
    lru.set('c', item());
    expect(removed).toEqual(['b']);
    expect(lru.peek('a')).toBeDefined();
    expect(lru.peek('c')).toBeDefined();
    expect(lru.size).toBe(2);
  });

  it('evicts oldest entries until the byte bound holds', () => {
    const lru = boundedLru(100, 10);
    lru.set('a', item(4));
    lru.set('b', item(4));
    lru.set('c', item(4));
    expect(lru.peek('a')).toBeUndefined();
    expect(lru.calculatedSize).toBe(8);
  });

  it('refuses an entry larger than the byte bound instead of emptying itself', () => {
    const lru = boundedLru(100, 10);
    lru.set('a', item(4));
    lru.set('huge', item(11));
    expect(lru.peek('huge')).toBeUndefined();
    expect(lru.peek('a')).toBeDefined();
  });

  it('replacing a key keeps the byte count exact and reports the replaced entry', () => {
    const removed: number[] = [];
    const lru = boundedLru<{ size: number }>(100, 100, (_key, value) => removed.push(value.size));
    lru.set('a', item(10));
    lru.set('a', item(3));
    expect(removed).toEqual([10]);
    expect(lru.calculatedSize).toBe(3);
    lru.delete('a');
    expect(removed).toEqual([10, 3]);
    expect(lru.calculatedSize).toBe(0);
    expect(lru.size).toBe(0);
  });

  it('counts an entry of size 0 as 1 (lru-cache refuses sizes below 1)', () => {
    const lru = boundedLru(100, 2);
    lru.set('a', item(0));
    lru.set('b', item(0));
    lru.set('c', item(0));
    expect(lru.size).toBe(2);
  });
});
