import { AppError } from '../../../common/errors/index.js';
import type { MessageBus } from '../../../infra/bus/index.js';
import type { SessionStore } from './session-store.js';

export const REVOKED_CHANNEL = 'auth:sessions-revoked';

export interface SessionLivenessOptions {
  /** Safety net for a lost bus message: a "live" answer is re-checked after this. */
  liveTtlMs: number;
  /** A revoked session never comes back; remember it as long as its tokens may live. */
  revokedTtlMs: number;
  maxEntries: number;
}

/**
 * Answers "is this session still live?" for every authenticated request
 * without a Redis round trip: answers are kept in a bounded in-process map,
 * and revocations arrive on the bus so every replica drops its "live" answer
 * at once. At most one store lookup per session is in flight.
 */
export class SessionLiveness {
  /** sid → time until which the session is known live. */
  private readonly live = new Map<string, number>();
  /** sid → time until which the session is known revoked. */
  private readonly revoked = new Map<string, number>();
  private readonly pending = new Map<string, Promise<boolean>>();

  constructor(
    private readonly store: SessionStore,
    private readonly bus: MessageBus,
    private readonly options: SessionLivenessOptions,
  ) {
    bus.subscribe(REVOKED_CHANNEL, (message) => {
      for (const sid of message.split(',')) this.markRevoked(sid);
    });
  }

  /**
   * true/false from memory (the hot path: no promise), or a promise when the
   * store must be asked. Rejects with 503 when the store is unreachable.
   */
  check(sid: string): boolean | Promise<boolean> {
    const now = Date.now();
    const liveUntil = this.live.get(sid);
    if (liveUntil !== undefined && liveUntil > now) return true;
    const revokedUntil = this.revoked.get(sid);
    if (revokedUntil !== undefined && revokedUntil > now) return false;
    return this.lookup(sid, now);
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
    pending = this.store
      .touch(sid, now)
      .then(
        (isLive) => {
          if (!isLive) this.remember(this.revoked, sid, this.options.revokedTtlMs);
          // A revocation heard while asking wins over the answer.
          else if (!this.revoked.has(sid)) this.remember(this.live, sid, this.options.liveTtlMs);
          return isLive;
        },
        () => {
          throw new AppError('UNAVAILABLE', 'session store unavailable');
        },
      )
      .finally(() => this.pending.delete(sid));
    this.pending.set(sid, pending);
    return pending;
  }

  private markRevoked(sid: string): void {
    this.live.delete(sid);
    this.remember(this.revoked, sid, this.options.revokedTtlMs);
  }

  private remember(map: Map<string, number>, sid: string, ttlMs: number): void {
    map.delete(sid);
    if (map.size >= this.options.maxEntries) {
      // Insertion order: the first key is the oldest answer.
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    map.set(sid, Date.now() + ttlMs);
  }
}
