import {
  REFRESH_REPEAT_WINDOW_MS,
  SessionStore,
  type RotateResult,
  type SessionRecord,
  type SessionState,
  type SessionStoreOptions,
  type SessionSummary,
} from './session-store.js';

interface Entry {
  record: SessionRecord;
  refreshHash: string;
  /** The refresh token the current one replaced, and when. */
  previous: { hash: string; rotatedAt: number } | undefined;
  spent: Set<string>;
  expiresAt: number;
}

/**
 * Sessions in this process (embedded mode, one replica). Every method runs to
 * completion without awaiting, which makes each one atomic like the Redis
 * scripts it stands in for.
 */
export class MemorySessionStore extends SessionStore {
  private readonly sessions = new Map<string, Entry>();
  private readonly tombstones = new Map<string, number>();
  private readonly repeatWindowMs: number;

  constructor(options: SessionStoreOptions = {}) {
    super();
    this.repeatWindowMs = options.refreshRepeatWindowMs ?? REFRESH_REPEAT_WINDOW_MS;
  }

  create(record: SessionRecord, refreshHash: string, ttlSec: number): Promise<void> {
    this.sweep();
    this.sessions.set(record.id, {
      record: { ...record },
      refreshHash,
      previous: undefined,
      spent: new Set(),
      expiresAt: Date.now() + ttlSec * 1000,
    });
    return Promise.resolve();
  }

  rotate(sid: string, presented: string, next: string, ttlSec: number): Promise<RotateResult> {
    const entry = this.live(sid);
    if (!entry) {
      const revoked = (this.tombstones.get(sid) ?? 0) > Date.now();
      return Promise.resolve({ outcome: revoked ? 'revoked' : 'unknown' });
    }
    const now = Date.now();
    if (entry.refreshHash === presented) {
      entry.spent.add(presented);
      entry.previous = { hash: presented, rotatedAt: now };
      entry.refreshHash = next;
      entry.expiresAt = now + ttlSec * 1000;
      return Promise.resolve({
        outcome: 'rotated',
        userId: entry.record.userId,
        role: entry.record.role,
      });
    }
    const { previous } = entry;
    if (previous?.hash === presented && now - previous.rotatedAt < this.repeatWindowMs) {
      return Promise.resolve(
        entry.refreshHash === next
          ? { outcome: 'rotated', userId: entry.record.userId, role: entry.record.role }
          : { outcome: 'concurrent' },
      );
    }
    if (entry.spent.has(presented)) {
      this.drop(sid, ttlSec);
      return Promise.resolve({ outcome: 'reused', userId: entry.record.userId });
    }
    return Promise.resolve({ outcome: 'unknown' });
  }

  touch(sid: string, now: number): Promise<SessionState> {
    const entry = this.live(sid);
    if (entry) {
      entry.record.lastSeenAt = now;
      return Promise.resolve('live');
    }
    return Promise.resolve((this.tombstones.get(sid) ?? 0) > Date.now() ? 'revoked' : 'gone');
  }

  revoke(sid: string, _userId: number, tombstoneTtlSec: number): Promise<void> {
    this.drop(sid, tombstoneTtlSec);
    return Promise.resolve();
  }

  revokeAll(userId: number, tombstoneTtlSec: number): Promise<string[]> {
    const ids = [...this.sessions.values()]
      .filter((e) => e.record.userId === userId)
      .map((e) => e.record.id);
    for (const sid of ids) this.drop(sid, tombstoneTtlSec);
    return Promise.resolve(ids);
  }

  list(userId: number): Promise<SessionSummary[]> {
    const now = Date.now();
    return Promise.resolve(
      [...this.sessions.values()]
        .filter((e) => e.record.userId === userId && e.expiresAt > now)
        .map(({ record: { sealedSessionKey: _sealed, ...summary } }) => summary),
    );
  }

  private live(sid: string): Entry | undefined {
    const entry = this.sessions.get(sid);
    if (entry && entry.expiresAt <= Date.now()) {
      this.sessions.delete(sid);
      return undefined;
    }
    return entry;
  }

  /** Forgets expired entries now and then, so memory stays bounded by live sessions. */
  private sweep(): void {
    if ((this.sessions.size + this.tombstones.size) % 1024 !== 0) return;
    const now = Date.now();
    for (const [sid, e] of this.sessions) if (e.expiresAt <= now) this.sessions.delete(sid);
    for (const [sid, until] of this.tombstones) if (until <= now) this.tombstones.delete(sid);
  }

  private drop(sid: string, tombstoneTtlSec: number): void {
    this.sessions.delete(sid);
    this.tombstones.set(sid, Date.now() + tombstoneTtlSec * 1000);
  }
}
