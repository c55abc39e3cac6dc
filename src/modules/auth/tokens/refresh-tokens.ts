import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * An opaque refresh token `<sessionId>.<256 random bits>`. The session id in
 * front lets one atomic script find the session; only the token's SHA-256 is
 * ever stored.
 */
export function newRefreshToken(sessionId: string): { token: string; hash: string } {
  const token = `${sessionId}.${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashRefreshToken(token) };
}

/**
 * The token that replaces a presented one is not random: it is an HMAC of the
 * presented token under a key derived from JWT_SECRET. A refresh repeated
 * with the same token (a sibling request that raced it, or a retry after a
 * lost answer or a 503) then computes the same successor, and the session
 * store can answer it with the pair already issued instead of treating it as
 * theft. Without the key, a spent token says nothing about its successor.
 */
export class RefreshTokenSuccessor {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'wx-refresh-token', 'successor', 32));
  }

  /** The successor of a well-formed token of session `sessionId`. */
  of(sessionId: string, presented: string): { token: string; hash: string } {
    const token = `${sessionId}.${createHmac('sha256', this.key).update(presented, 'utf8').digest('base64url')}`;
    return { token, hash: hashRefreshToken(token) };
  }
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** The session a well-formed refresh token belongs to, or undefined. */
export function sessionOfRefreshToken(token: string): string | undefined {
  const dot = token.indexOf('.');
  if (dot < 0) return undefined;
  const sid = token.slice(0, dot);
  return SESSION_ID.test(sid) && SECRET.test(token.slice(dot + 1)) ? sid : undefined;
}
