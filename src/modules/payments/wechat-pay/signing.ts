import {
  createDecipheriv,
  createSign,
  createVerify,
  randomBytes,
  type KeyObject,
} from 'node:crypto';

// WeChat Pay API v3 signatures: SHA256withRSA (PKCS#1 v1.5) over lines that
// each end with "\n". The pieces are small and separate (signer, verifier,
// decryptor), like the official wechatpay-go SDK's.

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** 32 random base62 characters: the nonce of a request or of JSAPI parameters. */
export function nonce(): string {
  const bytes = randomBytes(32);
  let out = '';
  for (const b of bytes) out += BASE62[b % 62];
  return out;
}

export const unixSeconds = (now = Date.now()): number => Math.floor(now / 1000);

/** What a request signature covers: `METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n`. */
export function requestMessage(
  method: string,
  pathAndQuery: string,
  timestamp: number,
  nonceStr: string,
  body: string,
): string {
  return `${method}\n${pathAndQuery}\n${timestamp}\n${nonceStr}\n${body}\n`;
}

/**
 * What a response or notification signature covers: `TIMESTAMP\nNONCE\nBODY\n`,
 * over the body's bytes exactly as they arrived (never re-serialized JSON).
 */
export function responseMessage(timestamp: string, nonceStr: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${timestamp}\n${nonceStr}\n`), body, Buffer.from('\n')]);
}

export function sign(message: string | Buffer, privateKey: KeyObject): string {
  return createSign('RSA-SHA256').update(message).sign(privateKey, 'base64');
}

export function verify(message: string | Buffer, signature: string, publicKey: KeyObject): boolean {
  try {
    return createVerify('RSA-SHA256').update(message).verify(publicKey, signature, 'base64');
  } catch {
    return false;
  }
}

/** The `Authorization` header of a signed request. */
export function authorization(fields: {
  mchId: string;
  serial: string;
  timestamp: number;
  nonce: string;
  signature: string;
}): string {
  return (
    `WECHATPAY2-SHA256-RSA2048 mchid="${fields.mchId}",serial_no="${fields.serial}",` +
    `timestamp="${fields.timestamp}",nonce_str="${fields.nonce}",signature="${fields.signature}"`
  );
}

/** The parameters of `wx.requestPayment` for a prepay id, signed with the merchant key. */
export interface JsapiPayParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

export function jsapiPayParams(
  appId: string,
  prepayId: string,
  privateKey: KeyObject,
  now = Date.now(),
): JsapiPayParams {
  const timeStamp = String(unixSeconds(now));
  const nonceStr = nonce();
  const pkg = `prepay_id=${prepayId}`;
  return {
    timeStamp,
    nonceStr,
    package: pkg,
    signType: 'RSA',
    paySign: sign(`${appId}\n${timeStamp}\n${nonceStr}\n${pkg}\n`, privateKey),
  };
}

/** The `resource` of a notification (and of nothing else we read). */
export interface EncryptedResource {
  algorithm: string;
  ciphertext: string;
  nonce: string;
  associated_data?: string;
}

/** Thrown when a resource does not decrypt: wrong key, tampered data or another algorithm. */
export class ResourceDecryptError extends Error {
  override name = 'ResourceDecryptError';
}

const GCM_TAG_BYTES = 16;

/** AEAD_AES_256_GCM with the APIv3 key; the last 16 bytes of the ciphertext are the tag. */
export function decryptResource(resource: EncryptedResource, apiV3Key: KeyObject): string {
  if (resource.algorithm !== 'AEAD_AES_256_GCM') {
    throw new ResourceDecryptError(`unsupported algorithm ${String(resource.algorithm)}`);
  }
  const data = Buffer.from(resource.ciphertext, 'base64');
  if (data.length <= GCM_TAG_BYTES) throw new ResourceDecryptError('ciphertext too short');
  try {
    const decipher = createDecipheriv('aes-256-gcm', apiV3Key, Buffer.from(resource.nonce), {
      authTagLength: GCM_TAG_BYTES,
    });
    decipher.setAuthTag(data.subarray(data.length - GCM_TAG_BYTES));
    decipher.setAAD(Buffer.from(resource.associated_data ?? ''));
    return Buffer.concat([
      decipher.update(data.subarray(0, data.length - GCM_TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new ResourceDecryptError('resource does not decrypt with the APIv3 key');
  }
}
