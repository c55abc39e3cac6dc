import { DeadlineExceededError } from '../../common/errors/index.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one trial call is let through. */
  cooldownMs: number;
  now?: () => number;
}

/** Thrown instead of calling the upstream while the circuit is open. */
export class CircuitOpenError extends Error {
  override name = 'CircuitOpenError';
}

/**
 * A consecutive-failure breaker for one upstream API: when it keeps failing,
 * callers fail at once instead of each waiting for a timeout and piling up.
 * Kept by hand over cockatiel/opossum: `bench/breaker.bench.mjs` measures the
 * per-call cost of the three (README, "WeChat client"), and the job is forty
 * lines without timers or events.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private current: BreakerState = 'closed';
  private trialInFlight = false;
  /** Bumped when the circuit opens: answers to calls sent before that are stale news. */
  private epoch = 0;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.options.cooldownMs) {
      this.current = 'half-open';
    }
    return this.current;
  }

  /**
   * Runs `call` unless the circuit is open. `isFailure` tells which errors
   * mean the upstream is unwell (a rejected login code is a healthy answer).
   * A call cut short by the request's budget (DeadlineExceededError) says
   * nothing either way: it neither counts as a failure nor closes the circuit.
   */
  async run<T>(call: () => Promise<T>, isFailure: (err: unknown) => boolean): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.trialInFlight)) {
      throw new CircuitOpenError('circuit open');
    }
    const trial = state === 'half-open';
    const epoch = this.epoch;
    if (trial) this.trialInFlight = true;
    try {
      const result = await call();
      this.settle(epoch, trial, false);
      return result;
    } catch (err) {
      if (!(err instanceof DeadlineExceededError)) this.settle(epoch, trial, isFailure(err));
      throw err;
    } finally {
      if (trial) this.trialInFlight = false;
    }
  }

  private settle(epoch: number, trial: boolean, failed: boolean): void {
    // A call sent before the circuit opened says nothing about the upstream
    // now: without this, each late timeout would restart the cooldown and a
    // late success would close the circuit in the middle of it.
    if (epoch !== this.epoch && !trial) return;
    if (!failed) {
      this.failures = 0;
      this.current = 'closed';
      return;
    }
    this.failures += 1;
    if (trial || this.failures >= this.options.failureThreshold) {
      this.current = 'open';
      this.openedAt = this.now();
      this.epoch += 1;
    }
  }
}
