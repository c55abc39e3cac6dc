import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';
import { AppError } from '../../../common/errors/index.js';
import { USER_ROLES, type UserRole } from '../../../common/auth/index.js';

export interface AccessClaims {
  userId: number;
  sessionId: string;
  role: UserRole;
}

// Verified tokens, so a client's repeated requests skip the HMAC and JSON
// parsing. Bounded (~1 KB of heap per entry); expiry is still checked on every use.
const VERIFIED_MAX_ENTRIES = 10_000;

interface Verified {
  claims: AccessClaims;
  expiresAtMs: number;
}

const VERIFY_OPTIONS: jwt.VerifyOptions & { complete?: false } = { algorithms: ['HS256'] };
const ROLES = new Set<string>(USER_ROLES);
const USER_ID = /^[1-9][0-9]{0,15}$/;

/**
 * Signs and verifies access JWTs (HS256; claims sub, sid, role). The key is a
 * KeyObject made once: jsonwebtoken with a string secret re-derives it on
 * every call, about 20 times slower on the hot path.
 *
 * Tokens are signed with the current secret only; previous secrets (a
 * rotation in progress) still verify, so rotating JWT_SECRET signs nobody
 * out. A token of a previous secret costs one failed HMAC per newer secret,
 * once: the verified cache answers its later requests.
 */
export class AccessTokens {
  private readonly key: KeyObject;
  /** The current key first, then the previous ones, newest first. */
  private readonly verifyingKeys: KeyObject[];
  private readonly verified = new LRUCache<string, Verified>({ max: VERIFIED_MAX_ENTRIES });

  constructor(
    secret: string,
    readonly ttlSec: number,
    previousSecrets: readonly string[] = [],
  ) {
    this.key = secretKey(secret);
    this.verifyingKeys = [this.key, ...previousSecrets.map(secretKey)];
  }

  sign(claims: AccessClaims): string {
    return jwt.sign({ sid: claims.sessionId, role: claims.role }, this.key, {
      algorithm: 'HS256',
      subject: String(claims.userId),
      expiresIn: this.ttlSec,
    });
  }

  /** 401/40101 when expired, 401/40100 for anything else wrong with it. */
  verify(token: string): AccessClaims {
    const hit = this.verified.get(token);
    if (hit !== undefined) {
      if (hit.expiresAtMs > Date.now()) return hit.claims;
      this.verified.delete(token);
      throw new AppError('TOKEN_EXPIRED');
    }
    return this.verifySignature(token);
  }

  private verifySignature(token: string): AccessClaims {
    const payload = this.verifyWithAnyKey(token);
    if (
      typeof payload !== 'object' ||
      typeof payload.sid !== 'string' ||
      payload.sid.length === 0 ||
      typeof payload.sub !== 'string' ||
      !USER_ID.test(payload.sub) ||
      typeof payload.role !== 'string' ||
      !ROLES.has(payload.role)
    ) {
      throw new AppError('UNAUTHORIZED', 'invalid access token');
    }
    const claims: AccessClaims = {
      userId: Number(payload.sub),
      sessionId: payload.sid,
      role: payload.role as UserRole,
    };
    if (typeof payload.exp === 'number') {
      this.verified.set(token, { claims, expiresAtMs: payload.exp * 1000 });
    }
    return claims;
  }

  private verifyWithAnyKey(token: string): string | jwt.JwtPayload {
    for (const key of this.verifyingKeys) {
      try {
        return jwt.verify(token, key, VERIFY_OPTIONS);
      } catch (err) {
        // jsonwebtoken checks the signature before the claims: an expired
        // token has a good signature, so no other key needs trying.
        if (err instanceof jwt.TokenExpiredError) throw new AppError('TOKEN_EXPIRED');
        if (!(err instanceof jwt.JsonWebTokenError) || err.message !== 'invalid signature') break;
      }
    }
    throw new AppError('UNAUTHORIZED', 'invalid access token');
  }
}

function secretKey(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, 'utf8'));
}
