import type { UserRole } from '../../users/index.js';

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

export type RotateResult =
  | { outcome: 'rotated'; userId: number; role: UserRole }
  /** A spent token came back: the session has just been revoked. */
  | { outcome: 'reused'; userId: number }
  /** The session was revoked earlier (logout, reuse). */
  | { outcome: 'revoked' }
  /** Never issued, or the session expired. */
  | { outcome: 'unknown' };

/**
 * Where sessions live: Redis (shared by every replica) or this process
 * (embedded mode). Each operation is atomic on its own.
 */
export abstract class SessionStore {
  abstract create(session: SessionRecord, refreshHash: string, ttlSec: number): Promise<void>;
  /**
   * Swaps the session's current refresh token for a new one. Presenting a
   * spent token revokes the session. Concurrent calls with one token: one
   * rotates, the others see a spent token.
   */
  abstract rotate(
    sessionId: string,
    presentedHash: string,
    nextHash: string,
    ttlSec: number,
  ): Promise<RotateResult>;
  /** Whether the session is live; records it as seen now when it is. */
  abstract touch(sessionId: string, now: number): Promise<boolean>;
  abstract revoke(sessionId: string, userId: number, tombstoneTtlSec: number): Promise<void>;
  /** Revokes every session of the user; returns their ids. */
  abstract revokeAll(userId: number, tombstoneTtlSec: number): Promise<string[]>;
  abstract list(userId: number): Promise<SessionRecord[]>;
}
