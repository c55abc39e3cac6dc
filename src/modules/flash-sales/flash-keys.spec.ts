import calculateSlot from 'cluster-key-slot';
import { bucketOf, saleKeys, shareOf } from './flash-keys.js';

describe('flash keys and stock buckets', () => {
  it('keeps one-bucket sales on the keys they always had', () => {
    expect(saleKeys(42)).toMatchObject({
      meta: 'fs:{fs42}:m',
      stock: 'fs:{fs42}:st',
      buyers: 'fs:{fs42}:b',
      tickets: 'fs:{fs42}:t',
      returned: 'fs:{fs42}:r',
      stream: 'fs:{fs42}:s',
    });
    expect(saleKeys(42, 0)).toEqual(saleKeys(42));
    expect(bucketOf(12345, 1)).toBe(0);
  });

  it('puts every key of a bucket in one slot and the buckets of a sale in different slots', () => {
    for (const sale of [1, 7, 1000, 99_999]) {
      const slots = Array.from({ length: 16 }, (_, b) => {
        const inBucket = new Set(Object.values(saleKeys(sale, b)).map((k) => calculateSlot(k)));
        expect(inBucket.size).toBe(1);
        return [...inBucket][0];
      });
      expect(new Set(slots).size).toBe(16);
    }
  });

  it('splits the units over the buckets without losing one, at most one apart', () => {
    for (const [units, buckets] of [
      [0, 4],
      [3, 4],
      [40, 4],
      [100_001, 16],
      [7, 64],
    ]) {
      const shares = Array.from({ length: buckets }, (_, b) => shareOf(units, buckets, b));
      expect(shares.reduce((a, b) => a + b, 0)).toBe(units);
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
    }
  });

  it('gives each user one bucket, spread evenly over consecutive ids', () => {
    const counts = [0, 0, 0, 0];
    for (let id = 1; id <= 400; id++) counts[bucketOf(id, 4)]++;
    expect(counts).toEqual([100, 100, 100, 100]);
  });
});
