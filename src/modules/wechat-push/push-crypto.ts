import { createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';

/**
 * A push that cannot be trusted (bad signature, stale timestamp, ciphertext
 * that does not open, another appid). The message names no secret.
 */
export class PushRefused extends Error {
  override name = 'PushRefused';
}

/** WeChat's push signature: SHA-1 (hex) of the parts sorted as strings and joined. */
export function pushSignature(parts: readonly string[]): string {
  return createHash('sha1')
    .update([...parts].sort().join(''))
    .digest('hex');
}

/** Compares a signature with the expected one in constant time (over the expected length). */
export function signatureMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given.toLowerCase(), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** WeChat pads the plaintext to a multiple of 32 bytes (PKCS#7 over 32-byte blocks). */
const PAD_BLOCK = 32;
const RANDOM_PREFIX = 16;
const LENGTH_FIELD = 4;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** No push comes near this; a bigger one is refused before it is decrypted. */
export const MAX_ENCRYPTED_CHARS = 128 * 1024;

/**
 * Opens a safe-mode `Encrypt` field: AES-256-CBC with the 32-byte
 * EncodingAESKey (IV = its first 16 bytes), then checks the 32-byte PKCS#7
 * padding, the 16 random bytes, the 4-byte big-endian length and the appid
 * that follows the message. Anything malformed is a PushRefused.
 */
export function decryptPush(encrypt: string, aesKey: Buffer, appId: string): string {
  if (encrypt.length > MAX_ENCRYPTED_CHARS || !BASE64.test(encrypt) || encrypt.length % 4 !== 0) {
    throw new PushRefused('Encrypt is not base64');
  }
  const cipherText = Buffer.from(encrypt, 'base64');
  if (cipherText.length < PAD_BLOCK || cipherText.length % 16 !== 0) {
    throw new PushRefused('Encrypt is not whole AES blocks');
  }
  const decipher = createDecipheriv('aes-256-cbc', aesKey, aesKey.subarray(0, 16));
  decipher.setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(cipherText), decipher.final()]);
  const n = padded[padded.length - 1];
  if (n < 1 || n > PAD_BLOCK || n > padded.length) throw new PushRefused('bad padding');
  for (let i = padded.length - n; i < padded.length; i++) {
    if (padded[i] !== n) throw new PushRefused('bad padding');
  }
  const plain = padded.subarray(0, padded.length - n);
  if (plain.length < RANDOM_PREFIX + LENGTH_FIELD) throw new PushRefused('message too short');
  const length = plain.readUInt32BE(RANDOM_PREFIX);
  const start = RANDOM_PREFIX + LENGTH_FIELD;
  if (length > plain.length - start) throw new PushRefused('message length out of range');
  const suffix = plain.subarray(start + length);
  const expected = Buffer.from(appId, 'utf8');
  if (suffix.length !== expected.length || !timingSafeEqual(suffix, expected)) {
    throw new PushRefused('message made for another appid');
  }
  return plain.subarray(start, start + length).toString('utf8');
}
