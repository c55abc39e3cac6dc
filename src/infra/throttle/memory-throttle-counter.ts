import type { ThrottleCounter, ThrottleStep } from './throttle-record.js';

interface Window {
  hits: number;
  resetAt: number;
  blockedUntil: number;
}

/**
 * Per-replica fixed windows: the embedded mode's limiter, and the fallback of
 * the Redis one while Redis is away. Same semantics as the Lua script.
 */
export class MemoryThrottleCounter implements ThrottleCounter {
  private readonly windows = new Map<string, Window>();
  private nextSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  hit(key: string, ttlMs: number, limit: number, blockMs: number): Promise<ThrottleStep> {
    const now = this.now();
    this.sweep(now);
    let w = this.windows.get(key);
    if (w && w.blockedUntil > now) {
      return Promise.resolve({
        totalHits: w.hits,
        windowMs: Math.max(0, w.resetAt - now),
        isBlocked: true,
        blockMs: w.blockedUntil - now,
      });
    }
    if (!w || w.resetAt <= now) {
      w = { hits: 0, resetAt: now + ttlMs, blockedUntil: 0 };
      this.windows.set(key, w);
    }
    w.hits++;
    if (w.hits > limit) {
      w.blockedUntil = now + blockMs;
      return Promise.resolve({
        totalHits: w.hits,
        windowMs: w.resetAt - now,
        isBlocked: true,
        blockMs,
      });
    }
    return Promise.resolve({
      totalHits: w.hits,
      windowMs: w.resetAt - now,
      isBlocked: false,
      blockMs: 0,
    });
  }

  get size(): number {
    return this.windows.size;
  }

  // Dropping finished windows at most once a second keeps memory bounded by
  // the number of clients seen in the last window, without a timer.
  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + 1000;
    for (const [key, w] of this.windows) {
      if (w.resetAt <= now && w.blockedUntil <= now) this.windows.delete(key);
    }
  }
}
