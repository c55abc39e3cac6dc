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
 * A small consecutive-failure breaker: when WeChat keeps failing, callers fail
 * at once instead of each waiting for a timeout and piling up. Hand-written
 * because the job is twenty lines and the libraries bring timers, events and
 * a fallback API we do not need.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private current: BreakerState = 'closed';
  private trialInFlight = false;
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
   */
  async run<T>(call: () => Promise<T>, isFailure: (err: unknown) => boolean): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.trialInFlight)) {
      throw new CircuitOpenError('circuit open');
    }
    const trial = state === 'half-open';
    if (trial) this.trialInFlight = true;
    try {
      const result = await call();
      this.onSuccess();
      return result;
    } catch (err) {
      if (isFailure(err)) this.onFailure(trial);
      else this.onSuccess();
      throw err;
    } finally {
      if (trial) this.trialInFlight = false;
    }
  }

  private onSuccess(): void {
    this.failures = 0;
    this.current = 'closed';
  }

  private onFailure(trial: boolean): void {
    this.failures += 1;
    if (trial || this.failures >= this.options.failureThreshold) {
      this.current = 'open';
      this.openedAt = this.now();
    }
  }
}
