import { Lru } from './lru.js';

const item = (size = 1) => ({ size });

describe('Lru', () => {
  it('evicts the least recently used entry beyond the entry bound', () => {
    const removed: string[] = [];
    const lru = new Lru(2, 1_000, (key) => removed.push(key));
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
    const lru = new Lru(100, 10);
    lru.set('a', item(4));
    lru.set('b', item(4));
    lru.set('c', item(4));
    expect(lru.peek('a')).toBeUndefined();
    expect(lru.totalBytes).toBe(8);
  });

  it('refuses an entry larger than the byte bound instead of emptying itself', () => {
    const lru = new Lru(100, 10);
    lru.set('a', item(4));
    lru.set('huge', item(11));
    expect(lru.peek('huge')).toBeUndefined();
    expect(lru.peek('a')).toBeDefined();
  });

  it('replacing a key keeps the byte count exact', () => {
    const lru = new Lru(100, 100);
    lru.set('a', item(10));
    lru.set('a', item(3));
    expect(lru.totalBytes).toBe(3);
    lru.delete('a');
    expect(lru.totalBytes).toBe(0);
    expect(lru.size).toBe(0);
  });
});
