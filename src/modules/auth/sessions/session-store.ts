import { AppError } from '../../../common/errors/index.js';
import { DEPENDENCY_RETRY_AFTER_S } from '../../../common/errors/dependency-failure.js';
import type { UserRole } from '../../users/index.js';

/** 503 with Retry-After: the session store (Redis) cannot answer now; the client retries. */
export function sessionStoreUnavailable(): AppError {
  return new AppError('UNAVAILABLE', 'session store unavailable', undefined, {
    'Retry-After': String(DEPENDENCY_RETRY_AFTER_S),
  });
}

export interface SessionRecord {
  id: string;
  userId: number;
  role: UserRole;
  device: string | null;
  createdAt: number;
  lastSeenAt: number;
  /** The WeChat session_key, sealed by SessionKeyCipher. */
  sealedSessionKey: string;
}

/** A session as listed to its user: never the sealed session_key. */
export type SessionSummary = Omit<SessionRecord, 'sealedSessionKey'>;

export type RotateResult =
  | { outcome: 'rotated'; userId: number; role: UserRole }
  /**
   * The token rotated a moment ago (within the concurrent-refresh window):
   * another request of the same client won; nothing is revoked.
   */
  | { outcome: 'concurrent' }
  /** A spent token came back: the session has just been revoked. */
  | { outcome: 'reused'; userId: number }
  /** The session was revoked earlier (logout, reuse). */
  | { outcome: 'revoked' }
  /** Never issued, or the session expired. */
  | { outcome: 'unknown' };

/**
 * A mini-program often fires several requests at once; when the access token
 * expires they all get 40101 and all refresh with the same refresh token. The
 * first rotates it; the others arrive within a round trip or two. Treating
 * them as theft would revoke the session, the winner's new pair included, and
 * log the user out. So the token spent last, presented again this soon after
 * its rotation, is answered 409 (nothing is issued, nothing revoked) and the
 * client uses the pair its sibling request got. 2 s covers a slow mobile round
 * trip; a thief replaying a stolen token inside it gets no tokens either, and
 * any later presentation still revokes the session.
 */
export const CONCURRENT_REFRESH_WINDOW_MS = 2_000;

export interface SessionStoreOptions {
  /** See CONCURRENT_REFRESH_WINDOW_MS (tests shorten it). */
  concurrentRefreshWindowMs?: number;
}

/**
 * Where sessions live: Redis (shared by every replica) or this process
 * (embedded mode). Each operation is atomic on its own.
 */
export abstract class SessionStore {
  abstract create(session: SessionRecord, refreshHash: string, ttlSec: number): Promise<void>;
  /**
   * Swaps the session's current refresh token for a new one. Concurrent
   * calls with one token: one rotates, the others get `concurrent`. Presenting
   * a spent token later revokes the session.
   */
  abstract rotate(
    sessionId: string,
    presentedHash: string,
    nextHash: string,
    ttlSec: number,
  ): Promise<RotateResult>;
  /**
   * The store is known to be stalled (a recent command timed out and it has
   * not answered since): callers with a fallback should use it rather than wait.
   */
  get isStalled(): boolean {
    return false;
  }

  /** Whether the session is live (then recorded as seen now), revoked, or gone. */
  abstract touch(sessionId: string, now: number): Promise<SessionState>;
  abstract revoke(sessionId: string, userId: number, tombstoneTtlSec: number): Promise<void>;
  /** Revokes every session of the user; returns their ids. */
  abstract revokeAll(userId: number, tombstoneTtlSec: number): Promise<string[]>;
  abstract list(userId: number): Promise<SessionSummary[]>;
}

/**
 * `gone`: neither the session nor a revocation tombstone is there: it expired,
 * or the store lost its data (Redis restarted empty). Nobody revoked it.
 */
export type SessionState = 'live' | 'revoked' | 'gone';
