import { createCipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * WeChat's message-push side, for e2e tests and the benchmark: signs and
 * encrypts a message exactly as WeChat's servers do (a SHA-1 over the sorted
 * token, timestamp, nonce and ciphertext; AES-256-CBC with the
 * EncodingAESKey, IV its first 16 bytes, a 16-byte random prefix, the
 * 4-byte big-endian length, the appid, PKCS#7 to 32 bytes). Written here
 * independently of src/; test/wechat-pusher.spec.ts checks it against
 * @wecom/crypto and Tencent's published sample.
 *
 *   const pusher = new WechatPusher({ token, aesKey, appId });
 *   const push = pusher.push({ MsgType: 'event', Event: 'x', … }, { mode: 'safe', format: 'json' });
 *   await app.http.post('/api/v1/wechat/push').query(push.query).type(push.contentType).send(push.body);
 */
export type PushMode = 'plain' | 'compatible' | 'safe';
export type PushFormat = 'json' | 'xml';

export interface PusherKeys {
  token: string;
  /** The 43-character EncodingAESKey. */
  aesKey: string;
  appId: string;
}

export interface SignedPush {
  query: Record<string, string>;
  body: string;
  contentType: string;
}

export interface PushOptions {
  mode?: PushMode;
  format?: PushFormat;
  /** Unix seconds; now by default. */
  timestamp?: number;
  nonce?: string;
  /** The appid sealed into the ciphertext (another one: a push meant for another mini-program). */
  appId?: string;
  /**
   * Replaces the ciphertext before it is signed: what a sender holding the
   * token could send (a truncated or badly padded ciphertext, validly signed).
   */
  tamper?: (encrypt: string) => string;
}

export const sha1Sorted = (parts: string[]) =>
  createHash('sha1')
    .update([...parts].sort().join(''))
    .digest('hex');

function xmlValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  return `<![CDATA[${String(value)}]]>`;
}

/** WeChat's XML: one element per field, CDATA text, lists as repeated elements. */
export function toWechatXml(fields: Record<string, unknown>): string {
  const element = (name: string, value: unknown): string => {
    if (Array.isArray(value)) return value.map((v) => element(name, v)).join('');
    if (value !== null && typeof value === 'object') {
      return `<${name}>${Object.entries(value)
        .map(([k, v]) => element(k, v))
        .join('')}</${name}>`;
    }
    return `<${name}>${xmlValue(value)}</${name}>`;
  };
  return `<xml>${Object.entries(fields)
    .map(([k, v]) => element(k, v))
    .join('')}</xml>`;
}

export class WechatPusher {
  constructor(readonly keys: PusherKeys) {}

  /** 32-byte PKCS#7 (WeChat's block), AES-256-CBC, base64. */
  encrypt(text: string, appId = this.keys.appId, random = randomBytes(16)): string {
    const key = Buffer.from(`${this.keys.aesKey}=`, 'base64');
    const message = Buffer.from(text, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(message.length);
    const plain = Buffer.concat([random, length, message, Buffer.from(appId, 'utf8')]);
    const pad = 32 - (plain.length % 32);
    const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
    cipher.setAutoPadding(false);
    return Buffer.concat([
      cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])),
      cipher.final(),
    ]).toString('base64');
  }

  /** AES-256-CBC of whole blocks as given, no padding added (to make malformed ciphertexts). */
  encryptBlocks(blocks: Buffer): string {
    const key = Buffer.from(`${this.keys.aesKey}=`, 'base64');
    const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(blocks), cipher.final()]).toString('base64');
  }

  /** The URL check WeChat makes when the push URL is saved in its console. */
  urlCheck(echostr: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
    const nonce = String(randomBytes(4).readUInt32BE());
    return {
      signature: sha1Sorted([this.keys.token, String(timestamp), nonce]),
      timestamp: String(timestamp),
      nonce,
      echostr,
    };
  }

  /** One message as WeChat would POST it. */
  push(fields: Record<string, unknown>, options: PushOptions = {}): SignedPush {
    const mode = options.mode ?? 'safe';
    const format = options.format ?? 'json';
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    const nonce = options.nonce ?? String(randomBytes(4).readUInt32BE());
    const serialize = (f: Record<string, unknown>) =>
      format === 'json' ? JSON.stringify(f) : toWechatXml(f);
    const query: Record<string, string> = {
      signature: sha1Sorted([this.keys.token, timestamp, nonce]),
      timestamp,
      nonce,
      openid: typeof fields.FromUserName === 'string' ? fields.FromUserName : '',
    };
    const contentType = format === 'json' ? 'application/json' : 'text/xml';
    if (mode === 'plain') return { query, body: serialize(fields), contentType };
    const encrypted = this.encrypt(serialize(fields), options.appId);
    const sealed = options.tamper ? options.tamper(encrypted) : encrypted;
    query.encrypt_type = 'aes';
    query.msg_signature = sha1Sorted([this.keys.token, timestamp, nonce, sealed]);
    const outer =
      mode === 'safe'
        ? { ToUserName: fields.ToUserName, Encrypt: sealed }
        : { ...fields, Encrypt: sealed };
    return { query, body: serialize(outer), contentType };
  }
}

/** A fresh EncodingAESKey (43 base64 characters, as WeChat's console makes them). */
export const newAesKey = () => randomBytes(32).toString('base64').slice(0, 43);
