import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { AppError, DeadlineExceededError } from '../../../common/errors/index.js';
import type { MessageBus } from '../../../infra/bus/index.js';
import { sessionStoreUnavailable, type SessionStore } from './session-store.js';

const REVOKED_CHANNEL = 'auth:sessions-revoked';

export interface SessionLivenessOptions {
  /** Safety net for a lost bus message: a "live" answer is re-checked after this. */
  liveTtlMs: number;
  /** A revoked session never comes back; remember it as long as its tokens may live. */
  revokedTtlMs: number;
  /**
   * While the store is unreachable, a session the store confirmed live this
   * recently is still admitted (re-asking the store every `liveTtlMs`).
   */
  outageGraceMs: number;
  maxEntries: number;
}

interface EndedAnswer {
  until: number;
  /** Gone without a revocation (expired, or the store lost its data). */
  expired: boolean;
}

interface LiveAnswer {
  /** Until when "live" is answered from memory. */
  until: number;
  /** When the store last said "live". */
  confirmedAt: number;
}

/**
 * Answers "is this session still live?" for every authenticated request
 * without a Redis round trip: answers are kept in a bounded in-process map,
 * and revocations arrive on the bus so every replica drops its "live" answer
 * at once. At most one store lookup per session is in flight.
 */
export class SessionLiveness {
  private readonly logger = new Logger('SessionLiveness');
  private readonly live: LRUCache<string, LiveAnswer>;
  /** sid → until when the session is known ended, and whether it expired rather than was revoked. */
  private readonly revoked: LRUCache<string, EndedAnswer>;
  private readonly pending = new Map<string, Promise<boolean>>();
  private storeDown = false;

  constructor(
    private readonly store: SessionStore,
    private readonly bus: MessageBus,
    private readonly options: SessionLivenessOptions,
  ) {
    // Bounded by count; the least recently asked session goes first.
    this.live = new LRUCache({ max: options.maxEntries });
    this.revoked = new LRUCache({ max: options.maxEntries });
    bus.subscribe(REVOKED_CHANNEL, (message) => {
      for (const sid of message.split(',')) this.markRevoked(sid);
    });
  }

  /**
   * true/false from memory (the hot path: no promise), or a promise when the
   * store must be asked. Rejects with 503 when the store is unreachable and
   * the session was not seen live within the outage grace.
   */
  check(sid: string): boolean | Promise<boolean> {
    const now = Date.now();
    const live = this.live.get(sid);
    if (live !== undefined && live.until > now) return true;
    if (this.isRevoked(sid, now)) return false;
    return this.lookup(sid, now);
  }

  /**
   * After check() answered false: the error for that session. Both are
   * 40102; the message tells a session nobody revoked (its data is gone, e.g.
   * Redis restarted empty) from one that was.
   */
  endedError(sid: string): AppError {
    return this.revoked.get(sid)?.expired
      ? new AppError('SESSION_REVOKED', 'session expired, sign in again')
      : new AppError('SESSION_REVOKED');
  }

  /** Marks sessions revoked here and tells every other replica. */
  async announceRevoked(sids: string[]): Promise<void> {
    if (sids.length === 0) return;
    for (const sid of sids) this.markRevoked(sid);
    await this.bus.publish(REVOKED_CHANNEL, sids.join(','));
  }

  private lookup(sid: string, now: number): Promise<boolean> {
    let pending = this.pending.get(sid);
    if (pending) return pending;
    // The store is known stalled: a session the outage rule admits is admitted
    // without waiting for a timeout; any other still asks the store, since
    // refusing it at once would 503 every session a new replica has not seen.
    if (this.store.isStalled && this.admittedDuringOutage(sid)) return Promise.resolve(true);
    pending = this.store
      .touch(sid, now)
      .then(
        (state) => {
          this.storeUp();
          if (state !== 'live') {
            const until = Date.now() + this.options.revokedTtlMs;
            this.revoked.set(sid, { until, expired: state === 'gone' });
            return false;
          }
          // A revocation heard while asking wins over the answer.
          if (!this.revoked.has(sid)) this.rememberLive(sid, now);
          return true;
        },
        // A spent request budget is no outage of the store.
        (err: unknown) =>
          err instanceof DeadlineExceededError ? Promise.reject(err) : this.duringOutage(sid),
      )
      .finally(() => this.pending.delete(sid));
    this.pending.set(sid, pending);
    return pending;
  }

  /**
   * The store cannot answer. Refusing everyone would turn a Redis outage into
   * a full outage of every authenticated route, while admitting a session
   * seen live recently costs little: no revocation can happen or propagate
   * meanwhile anyway (logout needs the store, and the bus is Redis too).
   */
  private duringOutage(sid: string): boolean {
    this.storeUnreachable();
    if (!this.admittedDuringOutage(sid)) {
      throw sessionStoreUnavailable();
    }
    return true;
  }

  /** A session confirmed live within the outage grace (then answered from memory for another TTL). */
  private admittedDuringOutage(sid: string): boolean {
    const now = Date.now();
    const confirmedAt = this.live.get(sid)?.confirmedAt;
    if (
      confirmedAt === undefined ||
      now - confirmedAt >= this.options.outageGraceMs ||
      this.isRevoked(sid, now)
    ) {
      return false;
    }
    // Ask the store again after another TTL, not on every request.
    this.live.set(sid, { until: now + this.options.liveTtlMs, confirmedAt });
    return true;
  }

  private isRevoked(sid: string, now: number): boolean {
    const ended = this.revoked.get(sid);
    return ended !== undefined && ended.until > now;
  }

  private rememberLive(sid: string, confirmedAt: number): void {
    this.live.set(sid, { until: confirmedAt + this.options.liveTtlMs, confirmedAt });
  }

  private markRevoked(sid: string): void {
    this.live.delete(sid);
    this.revoked.set(sid, { until: Date.now() + this.options.revokedTtlMs, expired: false });
  }

  private storeUnreachable(): void {
    if (this.storeDown) return;
    this.storeDown = true;
    this.logger.warn(
      `session store unreachable: admitting sessions seen live in the last ${this.options.outageGraceMs} ms, 503 for others`,
    );
  }

  private storeUp(): void {
    if (!this.storeDown) return;
    this.storeDown = false;
    this.logger.log('session store reachable again');
  }
}
