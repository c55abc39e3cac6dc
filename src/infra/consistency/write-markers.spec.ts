import { MemoryWriteMarkers } from './write-markers.js';

describe('MemoryWriteMarkers', () => {
  let now = 1_000;
  const markers = () => new MemoryWriteMarkers(() => now);

  beforeEach(() => {
    now = 1_000;
  });

  it('marks a user until the TTL has passed, then forgets them', async () => {
    const store = markers();
    await store.mark(7, 500);
    expect(await store.isMarked(7)).toBe(true);
    expect(await store.isMarked(8)).toBe(false);
    now += 499;
    expect(await store.isMarked(7)).toBe(true);
    now += 1;
    expect(await store.isMarked(7)).toBe(false);
    expect(store.size).toBe(0);
  });

  it('never shortens a marker when a shorter one follows', async () => {
    const store = markers();
    await store.mark(7, 1000);
    await store.mark(7, 10);
    now += 500;
    expect(await store.isMarked(7)).toBe(true);
  });

  it('drops expired markers of users who never read again', async () => {
    const store = markers();
    for (let id = 0; id < 1000; id++) await store.mark(id, 100);
    now += 200;
    for (let id = 1000; id < 1024; id++) await store.mark(id, 100);
    expect(store.size).toBe(24);
  });
});
