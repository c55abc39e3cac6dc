import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import type { RedisClient } from './redis-client.js';

/** Thrown instead of sending a command while the gate is shut. */
export class RedisSuspendedError extends Error {
  override name = 'RedisSuspendedError';

  constructor() {
    super('Redis suspended after a timeout; using the fallback');
  }
}

// ioredis's message when REDIS_COMMAND_TIMEOUT_MS passes without a reply.
const TIMED_OUT = 'Command timed out';

/**
 * For the Redis-backed paths that have a fallback (throttle counters, session
 * liveness, cache L2). A Redis that stops answering but keeps its
 * connections open (frozen, swapping, a full network buffer) leaves ioredis
 * "ready", so every command waits the full REDIS_COMMAND_TIMEOUT_MS before
 * its caller falls back: each request paid that wait for the whole stall.
 * After the first timeout the gate shuts: those paths go to their fallback at
 * once, and one PING at a time probes Redis in the background until it
 * answers, which opens the gate again. Paths without a fallback do not use it.
 */
export class RedisGate {
  private readonly logger = new Logger('RedisGate');
  private shut = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly probeIntervalMs = 200,
  ) {}

  /** Whether to send commands now (connected, and no timeout since the last good probe). */
  get isOpen(): boolean {
    return !this.shut && this.redis.status === 'ready';
  }

  /** Runs `op` when the gate is open, else fails at once with RedisSuspendedError. */
  async run<T>(op: () => Promise<T>): Promise<T> {
    if (!this.isOpen) throw new RedisSuspendedError();
    try {
      return await op();
    } catch (err) {
      this.failed(err);
      throw err;
    }
  }

  /** A command sent outside run() failed: a timeout shuts the gate. */
  failed(err: unknown): void {
    if (this.shut || !(err instanceof Error) || err.message !== TIMED_OUT) return;
    this.shut = true;
    this.logger.warn('Redis timed out: fallbacks in use until it answers a probe');
    void this.probe();
  }

  private async probe(): Promise<void> {
    while (this.shut) {
      // Closed on shutdown: nothing left to probe.
      if (this.redis.status === 'end') return;
      try {
        await this.redis.ping();
        this.shut = false;
        this.logger.log('Redis answers again: gate open');
      } catch {
        await sleep(this.probeIntervalMs, undefined, { ref: false });
      }
    }
  }
}
