import { createDecipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The encrypted user data could not be trusted; the message names no secret. */
export class WechatDataError extends Error {
  override name = 'WechatDataError';
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function base64Bytes(value: string, what: string, length?: number): Buffer {
  if (!BASE64.test(value) || value.length % 4 !== 0) {
    throw new WechatDataError(`${what} is not base64`);
  }
  const bytes = Buffer.from(value, 'base64');
  if (length !== undefined && bytes.length !== length) {
    throw new WechatDataError(`${what} must decode to ${length} bytes`);
  }
  return bytes;
}

/** Removes PKCS#7 padding, refusing anything that is not exactly well-formed. */
function unpad(block: Buffer): Buffer {
  const n = block.length === 0 ? 0 : block[block.length - 1];
  if (n < 1 || n > 16 || n > block.length) throw new WechatDataError('bad padding');
  for (let i = block.length - n; i < block.length; i++) {
    if (block[i] !== n) throw new WechatDataError('bad padding');
  }
  return block.subarray(0, block.length - n);
}

/**
 * Decrypts `encryptedData` from wx.getUserInfo / button callbacks
 * (AES-128-CBC, key = session_key, strict PKCS#7) and checks that it was made
 * for our mini-program (`watermark.appid`).
 */
export function decryptUserData(
  encryptedData: string,
  iv: string,
  sessionKey: string,
  appId: string,
): Record<string, unknown> {
  const key = base64Bytes(sessionKey, 'session key', 16);
  const ivBytes = base64Bytes(iv, 'iv', 16);
  const data = base64Bytes(encryptedData, 'encryptedData');
  if (data.length === 0 || data.length % 16 !== 0) {
    throw new WechatDataError('encryptedData is not a whole number of blocks');
  }
  const decipher = createDecipheriv('aes-128-cbc', key, ivBytes);
  decipher.setAutoPadding(false);
  const plain = unpad(Buffer.concat([decipher.update(data), decipher.final()]));
  let parsed: unknown;
  try {
    parsed = JSON.parse(plain.toString('utf8'));
  } catch {
    throw new WechatDataError('decrypted data is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new WechatDataError('decrypted data is not an object');
  }
  const watermark = (parsed as { watermark?: { appid?: unknown } }).watermark;
  if (watermark?.appid !== appId) throw new WechatDataError('watermark appid mismatch');
  return parsed as Record<string, unknown>;
}

function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** wx.getUserInfo's `signature` = sha1(rawData + session_key), hex. */
export function verifyRawDataSignature(
  rawData: string,
  signature: string,
  sessionKey: string,
): boolean {
  const expected = createHash('sha1')
    .update(rawData + sessionKey, 'utf8')
    .digest('hex');
  return safeEqualHex(expected, signature.toLowerCase());
}

/** The login-state signature of /wxa/checksession: HMAC-SHA256(session_key, ''), hex. */
export function sessionKeySignature(sessionKey: string): string {
  return createHmac('sha256', sessionKey).update('').digest('hex');
}
