import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import {
  decryptUserData,
  sessionKeySignature,
  verifyRawDataSignature,
  WechatDataError,
} from './wechat-crypto.js';

const APPID = 'wx1234567890abcdef';

function encrypt(plain: Buffer, key: Buffer, iv: Buffer, autoPadding = true): string {
  const cipher = createCipheriv('aes-128-cbc', key, iv);
  cipher.setAutoPadding(autoPadding);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
}

function vector(payload: Record<string, unknown>) {
  const key = randomBytes(16);
  const iv = randomBytes(16);
  return {
    key,
    iv,
    sessionKey: key.toString('base64'),
    ivB64: iv.toString('base64'),
    data: encrypt(Buffer.from(JSON.stringify(payload)), key, iv),
  };
}

describe('decryptUserData', () => {
  it('decrypts data made by AES-128-CBC with the session key', () => {
    const payload = {
      nickName: '小明',
      avatarUrl: 'https://thirdwx.qlogo.cn/a.png',
      watermark: { appid: APPID, timestamp: 1700000000 },
    };
    const v = vector(payload);
    expect(decryptUserData(v.data, v.ivB64, v.sessionKey, APPID)).toEqual(payload);
  });

  it('refuses data whose watermark names another appid', () => {
    const v = vector({ nickName: 'x', watermark: { appid: 'wx-other', timestamp: 1 } });
    expect(() => decryptUserData(v.data, v.ivB64, v.sessionKey, APPID)).toThrow(
      /watermark appid mismatch/,
    );
  });

  it('refuses data without a watermark', () => {
    const v = vector({ nickName: 'x' });
    expect(() => decryptUserData(v.data, v.ivB64, v.sessionKey, APPID)).toThrow(WechatDataError);
  });

  it('refuses bad PKCS#7 padding (padding bytes that disagree)', () => {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    let json = JSON.stringify({ watermark: { appid: APPID } });
    while (json.length % 16 !== 12) json += ' ';
    // Ends in 04 04 04 but the fourth byte from the end is 03.
    const padded = Buffer.concat([Buffer.from(json), Buffer.from([3, 4, 4, 4])]);
    const data = encrypt(padded, key, iv, false);
    expect(() =>
      decryptUserData(data, iv.toString('base64'), key.toString('base64'), APPID),
    ).toThrow(/bad padding/);
  });

  it('refuses a padding byte larger than a block', () => {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const block = Buffer.alloc(32, 17);
    const data = encrypt(block, key, iv, false);
    expect(() =>
      decryptUserData(data, iv.toString('base64'), key.toString('base64'), APPID),
    ).toThrow(/bad padding/);
  });

  it('refuses a wrong session key without throwing anything but WechatDataError', () => {
    const v = vector({ watermark: { appid: APPID } });
    const other = randomBytes(16).toString('base64');
    expect(() => decryptUserData(v.data, v.ivB64, other, APPID)).toThrow(WechatDataError);
  });

  it.each([
    ['iv of the wrong length', (v: ReturnType<typeof vector>) => [v.data, 'AAAA', v.sessionKey]],
    [
      'iv that is not base64',
      (v: ReturnType<typeof vector>) => [v.data, '!!notbase64!!', v.sessionKey],
    ],
    [
      'data that is not whole blocks',
      (v: ReturnType<typeof vector>) => ['AAAAAAAA', v.ivB64, v.sessionKey],
    ],
  ])('refuses %s', (_label, args) => {
    const v = vector({ watermark: { appid: APPID } });
    const [data, iv, key] = args(v);
    expect(() => decryptUserData(data, iv, key, APPID)).toThrow(WechatDataError);
  });

  it('never puts the session key in an error message', () => {
    const v = vector({ watermark: { appid: 'wx-other' } });
    try {
      decryptUserData(v.data, v.ivB64, v.sessionKey, APPID);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain(v.sessionKey);
    }
  });
});

describe('verifyRawDataSignature', () => {
  const sessionKey = randomBytes(16).toString('base64');
  const rawData = JSON.stringify({ nickName: 'Tea', gender: 0 });
  const signature = createHash('sha1')
    .update(rawData + sessionKey)
    .digest('hex');

  it('accepts sha1(rawData + session_key)', () => {
    expect(verifyRawDataSignature(rawData, signature, sessionKey)).toBe(true);
  });

  it('refuses a signature over other data or with another key', () => {
    expect(verifyRawDataSignature(rawData + ' ', signature, sessionKey)).toBe(false);
    expect(verifyRawDataSignature(rawData, signature, randomBytes(16).toString('base64'))).toBe(
      false,
    );
    expect(verifyRawDataSignature(rawData, 'short', sessionKey)).toBe(false);
  });
});

describe('sessionKeySignature', () => {
  it('is HMAC-SHA256 of the empty string keyed by the session key, hex', () => {
    const sessionKey = randomBytes(16).toString('base64');
    expect(sessionKeySignature(sessionKey)).toBe(
      createHmac('sha256', sessionKey).update('').digest('hex'),
    );
    expect(sessionKeySignature(sessionKey)).not.toBe(sessionKeySignature('other'));
  });
});
