import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** While the replica admitted a buy this recently, persistence yields. */
const ADMITTING_WINDOW_MS = 1000;
/**
 * While yielding, each batch is followed by a pause of this many times its
 * own duration: persistence takes at most about a quarter of the core, and
 * admission the rest.
 */
const PAUSE_FACTOR = 3;
/** The event-loop delay (mean, ms) at which a yielding batch keeps its full size. */
const TARGET_DELAY_MS = 10;
const MIN_YIELDING_BATCH = 50;

/**
 * How persistence shares a core with admission (WORKER_MODE=all, the
 * embedded default): while this replica is admitting buys, one batch loop
 * at a time writes, each batch sized down as the event loop's delay grows
 * (a smaller batch holds the loop for less time), and paused after by three
 * times its duration. With no buy for a second, every loop writes at full
 * batch size, so the backlog of a sale is written right after its crowd.
 * On a worker (WORKER_MODE=worker) nothing is paced.
 */
export class PersistPacer {
  private readonly delay: IntervalHistogram | undefined;
  private turn: Promise<void> = Promise.resolve();
  private lastAdmissionAt = -Infinity;

  constructor(
    private readonly batchSize: number,
    sharesCore: boolean,
  ) {
    if (sharesCore) {
      this.delay = monitorEventLoopDelay({ resolution: 10 });
      this.delay.enable();
    }
  }

  /** The admission gate calls this for each script call it makes. */
  admitted(): void {
    this.lastAdmissionAt = performance.now();
  }

  /** Runs one batch: `write(size)` reads and writes up to `size` admissions. */
  async run<T>(write: (size: number) => Promise<T>): Promise<T> {
    if (!this.yielding()) return write(this.batchSize);
    const previous = this.turn;
    let release!: () => void;
    this.turn = new Promise((resolve) => (release = resolve));
    await previous;
    try {
      // Admission may have stopped while this loop waited for its turn.
      if (!this.yielding()) return await write(this.batchSize);
      const started = performance.now();
      const result = await write(this.yieldingSize());
      await sleep((performance.now() - started) * PAUSE_FACTOR);
      return result;
    } finally {
      release();
    }
  }

  stop(): void {
    this.delay?.disable();
  }

  private yielding(): boolean {
    return (
      this.delay !== undefined && performance.now() - this.lastAdmissionAt < ADMITTING_WINDOW_MS
    );
  }

  /** The full batch at a low delay, proportionally less above it; the delay is measured afresh per batch. */
  private yieldingSize(): number {
    const delay = this.delay as IntervalHistogram;
    const meanMs = delay.count > 0 ? delay.mean / 1e6 : 0;
    delay.reset();
    if (meanMs <= TARGET_DELAY_MS) return this.batchSize;
    return Math.max(
      MIN_YIELDING_BATCH,
      Math.min(this.batchSize, Math.round((this.batchSize * TARGET_DELAY_MS) / meanMs)),
    );
  }
}
