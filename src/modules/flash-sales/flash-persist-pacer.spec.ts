import { PersistPacer } from './flash-persist-pacer.js';

/** A batch that records its size and how many batches ran at once, and takes `ms`. */
function recorder(ms: number) {
  const sizes: number[] = [];
  let running = 0;
  let most = 0;
  const write = async (size: number) => {
    sizes.push(size);
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, ms));
    running--;
    return size;
  };
  return { write, sizes, most: () => most };
}

const noBacklog = () => Promise.resolve(0);

/** Four loops' batches at once: all at full size, together, with no pause. */
async function expectFullSpeed(pacer: PersistPacer): Promise<void> {
  const r = recorder(20);
  const started = performance.now();
  await Promise.all([1, 2, 3, 4].map(() => pacer.run(r.write, noBacklog)));
  expect(r.sizes).toEqual([500, 500, 500, 500]);
  expect(r.most()).toBe(4);
  expect(performance.now() - started).toBeLessThan(150);
}

describe('PersistPacer', () => {
  it('on a worker, runs every batch at full size and all at once, admitting or not', async () => {
    const pacer = new PersistPacer(500, false);
    pacer.admitted();
    await expectFullSpeed(pacer);
  });

  it('sharing the core, yields while buys are admitted: one batch at a time, each followed by a pause', async () => {
    const pacer = new PersistPacer(500, true);
    try {
      pacer.admitted();
      const r = recorder(20);
      const started = performance.now();
      await Promise.all([1, 2, 3].map(() => pacer.run(r.write, noBacklog)));
      expect(r.most()).toBe(1);
      // Three batches of 20 ms, each followed by three times its duration.
      expect(performance.now() - started).toBeGreaterThanOrEqual(3 * 4 * 20 - 5);
      for (const size of r.sizes) {
        expect(size).toBeGreaterThanOrEqual(50);
        expect(size).toBeLessThanOrEqual(500);
      }
    } finally {
      pacer.stop();
    }
  });

  it('sharing the core, stops yielding while the backlog would take over 5 s at the measured rate', async () => {
    const pacer = new PersistPacer(500, true);
    try {
      pacer.admitted();
      const r = recorder(20);
      // The first batch measures the rate (500 per 20 ms: 25,000/s); 200,000 waiting is 8 s of it.
      await pacer.run(r.write, noBacklog);
      const started = performance.now();
      await pacer.run(r.write, () => Promise.resolve(200_000));
      expect(r.sizes[1]).toBe(500);
      expect(performance.now() - started).toBeLessThan(50);
      const paused = performance.now();
      await pacer.run(r.write, () => Promise.resolve(1000));
      expect(performance.now() - paused).toBeGreaterThanOrEqual(4 * 20 - 5);
    } finally {
      pacer.stop();
    }
  });

  it('sharing the core with no buy for a second, writes at full speed again', async () => {
    const pacer = new PersistPacer(500, true);
    try {
      await expectFullSpeed(pacer);
    } finally {
      pacer.stop();
    }
  });
});
