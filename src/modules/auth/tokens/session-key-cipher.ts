import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Encrypts WeChat session_keys at rest (AES-256-GCM, key derived from
 * JWT_SECRET), so a Redis dump does not hand out the keys that decrypt users'
 * data. Sealing uses the current secret; the previous ones (JWT_PREVIOUS_SECRETS)
 * still open what they sealed, so a rotation keeps every live session usable.
 */
export class SessionKeyCipher {
  private readonly key: Buffer;
  /** The current key first, then the previous ones, newest first. */
  private readonly openingKeys: Buffer[];

  constructor(secret: string, previousSecrets: readonly string[] = []) {
    this.key = deriveKey(secret);
    this.openingKeys = [this.key, ...previousSecrets.map(deriveKey)];
  }

  encrypt(sessionKey: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(sessionKey, 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
  }

  /** Throws when no configured secret sealed it (retired, or tampered with). */
  decrypt(sealed: string): string {
    const [iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
    for (const key of this.openingKeys) {
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        // The GCM tag did not match this key: try the next one.
      }
    }
    throw new Error('sealed session key does not open with any configured secret');
  }
}

function deriveKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'wx-session-key', 'aes-256-gcm', 32));
}
