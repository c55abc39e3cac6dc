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
 * Yielding stops while the backlog would take longer than this to write at
 * the rate batches are being written: after the crowd, everything admitted
 * is written within about this long (plus ADMITTING_WINDOW_MS).
 */
const MAX_BACKLOG_SECONDS = 5;

/**
 * How persistence shares a core with admission (WORKER_MODE=all, the
 * embedded default): while this replica is admitting buys, one batch loop
 * at a time writes, each batch sized down as the event loop's delay grows
 * (a smaller batch holds the loop for less time), and paused after by three
 * times its duration, unless the backlog would take more than 5 s to write
 * at the rate measured on the batches. With no buy for a second, every loop
 * writes at full batch size, so a sale's last admissions are written within
 * seconds of its crowd. On a worker (WORKER_MODE=worker) nothing is paced.
 */
export class PersistPacer {
  private readonly delay: IntervalHistogram | undefined;
  private turn: Promise<void> = Promise.resolve();
  private lastAdmissionAt = -Infinity;
  /** Admissions written per second of batch time (a moving average; 0 until measured). */
  private rate = 0;

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

  /**
   * Runs one batch: `write(size)` reads and writes up to `size` admissions
   * and resolves with how many it wrote; `backlog()` counts those waiting
   * (asked only while yielding).
   */
  async run(
    write: (size: number) => Promise<number>,
    backlog: () => Promise<number>,
  ): Promise<number> {
    if (!this.yielding()) return this.measured(write, this.batchSize);
    const previous = this.turn;
    let release!: () => void;
    this.turn = new Promise((resolve) => (release = resolve));
    await previous;
    try {
      // Admission may have stopped while this loop waited for its turn.
      if (!this.yielding() || (await backlog()) > this.rate * MAX_BACKLOG_SECONDS) {
        return await this.measured(write, this.batchSize);
      }
      const started = performance.now();
      const written = await this.measured(write, this.yieldingSize());
      await sleep((performance.now() - started) * PAUSE_FACTOR);
      return written;
    } finally {
      release();
    }
  }

  private async measured(write: (size: number) => Promise<number>, size: number): Promise<number> {
    const started = performance.now();
    const written = await write(size);
    const seconds = (performance.now() - started) / 1000;
    if (written > 0 && seconds > 0) {
      const rate = written / seconds;
      this.rate = this.rate === 0 ? rate : 0.8 * this.rate + 0.2 * rate;
    }
    return written;
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
