import { MemoryThrottleCounter } from './memory-throttle-counter.js';

describe('MemoryThrottleCounter', () => {
  let now = 1_000_000;
  const counter = () => new MemoryThrottleCounter(() => now);

  beforeEach(() => {
    now = 1_000_000;
  });

  it('admits `limit` hits per window, then blocks for the block duration', async () => {
    const c = counter();
    for (let i = 1; i <= 3; i++) {
      expect(await c.hit('k', 10_000, 3, 5_000)).toEqual({
        totalHits: i,
        windowMs: 10_000,
        isBlocked: false,
        blockMs: 0,
      });
    }
    expect(await c.hit('k', 10_000, 3, 5_000)).toMatchObject({ isBlocked: true, blockMs: 5_000 });
    now += 4_000;
    expect(await c.hit('k', 10_000, 3, 5_000)).toMatchObject({ isBlocked: true, blockMs: 1_000 });
  });

  it('starts a new window once the old one has passed and the block has lifted', async () => {
    const c = counter();
    for (let i = 0; i < 4; i++) await c.hit('k', 1_000, 3, 1_000);
    now += 1_001;
    expect(await c.hit('k', 1_000, 3, 1_000)).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('keeps keys apart', async () => {
    const c = counter();
    for (let i = 0; i < 4; i++) await c.hit('a', 1_000, 3, 1_000);
    expect(await c.hit('b', 1_000, 3, 1_000)).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('forgets finished windows, so memory follows the clients of the last window', async () => {
    const c = counter();
    for (let i = 0; i < 100; i++) await c.hit(`client-${i}`, 1_000, 3, 1_000);
    expect(c.size).toBe(100);
    now += 2_000;
    await c.hit('fresh', 1_000, 3, 1_000);
    expect(c.size).toBe(1);
  });
});
