import { AppError, DEPENDENCY_RETRY_AFTER_S } from '../../../common/errors/index.js';
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
  /**
   * The presented token was current and `nextHash` replaced it, or it was
   * replaced by `nextHash` a moment ago (within REFRESH_REPEAT_WINDOW_MS): a
   * repeat of that rotation gets the same successor and changes nothing.
   */
  | { outcome: 'rotated'; userId: number; role: UserRole }
  /**
   * The token was replaced a moment ago, by another successor than
   * `nextHash` (a replica with another JWT_SECRET, mid-rotation): nothing
   * is issued and nothing revoked.
   */
  | { outcome: 'concurrent' }
  /** A spent token came back: the session has just been revoked. */
  | { outcome: 'reused'; userId: number }
  /** The session was revoked earlier (logout, reuse). */
  | { outcome: 'revoked' }
  /** Never issued, or the session expired. */
  | { outcome: 'unknown' };

/**
 * A refresh is repeated for two reasons that are not theft. A mini-program
 * fires several requests at once; when the access token expires they all get
 * 40101 and all refresh with the same token, the others a round trip or two
 * after the first. And a refresh whose answer was lost, or that answered 503
 * because no Sentinel replica acknowledged the rotation in time, is retried
 * after Retry-After. Treating either as reuse would revoke the session and log
 * the user out. So the token spent last, presented again this soon after its
 * rotation, gets the same successor (RefreshTokenSuccessor) and nothing
 * changes. 10 s covers a slow mobile round trip and a few retries of a 503.
 * The price: a thief replaying a stolen token inside those 10 s gets the pair
 * its owner has, and the next rotation by either of them makes the other's
 * token a spent one, whose presentation revokes the session.
 */
export const REFRESH_REPEAT_WINDOW_MS = 10_000;

export interface SessionStoreOptions {
  /** See REFRESH_REPEAT_WINDOW_MS (tests shorten it). */
  refreshRepeatWindowMs?: number;
}

/**
 * Where sessions live: Redis (shared by every replica) or this process
 * (embedded mode). Each operation is atomic on its own.
 */
export abstract class SessionStore {
  abstract create(session: SessionRecord, refreshHash: string, ttlSec: number): Promise<void>;
  /**
   * Swaps the session's current refresh token for a new one. Concurrent or
   * repeated calls with one token and its successor: one rotates, the others
   * get the same outcome and change nothing. Presenting a spent token later
   * revokes the session.
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
