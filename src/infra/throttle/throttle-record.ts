/** One counting step of a fixed window with a block, in milliseconds. */
export interface ThrottleStep {
  totalHits: number;
  /** Until the window resets. */
  windowMs: number;
  isBlocked: boolean;
  /** Until the block lifts; 0 when not blocked. */
  blockMs: number;
}

export interface ThrottleCounter {
  /** Counts one hit of `key` and tells whether it is over `limit`. */
  hit(key: string, ttlMs: number, limit: number, blockMs: number): Promise<ThrottleStep>;
}
