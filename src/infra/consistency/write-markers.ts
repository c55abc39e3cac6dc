/**
 * Remembers which users wrote recently, so their reads can go to the primary
 * while replicas may still lag behind that write.
 */
export interface WriteMarkerStore {
  mark(userId: number, ttlMs: number): Promise<void>;
  isMarked(userId: number): Promise<boolean>;
}

/** Injection token of the {@link WriteMarkerStore}. */
export const WRITE_MARKERS = Symbol('WRITE_MARKERS');

// Expired entries are dropped when read; this sweep bounds the map for users
// who write once and never read again.
const SWEEP_EVERY = 1024;

/** In-process markers: the store when Redis is off, and each replica's own near copy. */
export class MemoryWriteMarkers implements WriteMarkerStore {
  private readonly until = new Map<number, number>();
  private marks = 0;

  constructor(private readonly now: () => number = Date.now) {}

  mark(userId: number, ttlMs: number): Promise<void> {
    this.markNow(userId, ttlMs);
    return Promise.resolve();
  }

  isMarked(userId: number): Promise<boolean> {
    return Promise.resolve(this.isMarkedNow(userId));
  }

  markNow(userId: number, ttlMs: number): void {
    const until = this.now() + ttlMs;
    if ((this.until.get(userId) ?? 0) < until) this.until.set(userId, until);
    if (++this.marks % SWEEP_EVERY === 0) this.sweep();
  }

  isMarkedNow(userId: number): boolean {
    const until = this.until.get(userId);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.until.delete(userId);
    return false;
  }

  get size(): number {
    return this.until.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [userId, until] of this.until) if (until <= now) this.until.delete(userId);
  }
}
