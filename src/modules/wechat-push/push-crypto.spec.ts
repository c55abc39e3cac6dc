import { createCipheriv, randomBytes } from 'node:crypto';
import { decrypt as wecomDecrypt, encrypt as wecomEncrypt, getSignature } from '@wecom/crypto';
import { PushRefused, decryptPush, pushSignature, signatureMatches } from './push-crypto.js';
import { parsePushXml } from './push-xml.js';

// Tencent's published sample of the message-encryption scheme (the
// WXBizMsgCrypt samples shipped for the Official Account and WeCom
// platforms, the same scheme mini-program push uses): token QDG6eK,
// EncodingAESKey jWmY…B2C, appid wx5823bf96d3bd56c7.
const SAMPLE = {
  token: 'QDG6eK',
  aesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  appId: 'wx5823bf96d3bd56c7',
  message: {
    msgSignature: '477715d11cdb4164915debcba66cb864d751f3e6',
    timestamp: '1409659813',
    nonce: '1372623149',
    encrypt:
      'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==',
  },
  // The sample's URL check (its echostr is encrypted the same way).
  urlCheck: {
    msgSignature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
    timestamp: '1409659589',
    nonce: '263014780',
    echostr:
      'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==',
  },
};
const sampleKey = Buffer.from(`${SAMPLE.aesKey}=`, 'base64');

function encryptBlocks(key: Buffer, blocks: Buffer): string {
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(blocks), cipher.final()]).toString('base64');
}

/** random(16) + length(4) + message + appid, padded to 32 with `pad` bytes of value `value`. */
function framed(message: Buffer, appId: string, pad: { count: number; value: number }): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(message.length);
  return Buffer.concat([
    randomBytes(16),
    length,
    message,
    Buffer.from(appId),
    Buffer.alloc(pad.count, pad.value),
  ]);
}

describe("WeChat push crypto against Tencent's sample", () => {
  it('signs the sample message and its URL check as published', () => {
    const { message: m, urlCheck: u } = SAMPLE;
    expect(pushSignature([SAMPLE.token, m.timestamp, m.nonce, m.encrypt])).toBe(m.msgSignature);
    expect(pushSignature([SAMPLE.token, u.timestamp, u.nonce, u.echostr])).toBe(u.msgSignature);
  });

  it('opens the sample message and its echostr', () => {
    const xml = decryptPush(SAMPLE.message.encrypt, sampleKey, SAMPLE.appId);
    expect(parsePushXml(xml)).toEqual(
      expect.objectContaining({
        ToUserName: 'wx5823bf96d3bd56c7',
        FromUserName: 'mycreate',
        CreateTime: '1409659813',
        MsgType: 'text',
        Content: 'hello',
        MsgId: '4561255354251345929',
      }),
    );
    expect(decryptPush(SAMPLE.urlCheck.echostr, sampleKey, SAMPLE.appId)).toBe(
      '1616140317555161061',
    );
  });

  it('refuses the sample for any other appid', () => {
    expect(() => decryptPush(SAMPLE.message.encrypt, sampleKey, 'wx5823bf96d3bd56c8')).toThrow(
      PushRefused,
    );
    expect(() => decryptPush(SAMPLE.message.encrypt, sampleKey, 'wx5823bf96d3bd56c')).toThrow(
      PushRefused,
    );
  });
});

describe('WeChat push crypto against @wecom/crypto (an independent implementation)', () => {
  const aesKey = randomBytes(32).toString('base64').slice(0, 43);
  const key = Buffer.from(`${aesKey}=`, 'base64');
  const appId = 'wx0123456789abcdef';

  it('opens what it encrypts, every length around the 32-byte padding block', () => {
    for (let n = 0; n <= 70; n++) {
      const text = '消'.repeat(n % 5) + 'x'.repeat(n);
      expect(decryptPush(wecomEncrypt(aesKey, text, appId), key, appId)).toBe(text);
    }
  });

  it('agrees on the signature', () => {
    const encrypt = wecomEncrypt(aesKey, '{"MsgType":"event"}', appId);
    expect(pushSignature(['tok3n', '1700000000', '42', encrypt])).toBe(
      getSignature('tok3n', '1700000000', '42', encrypt),
    );
  });

  it('pads to 32-byte blocks as it expects (a 12-byte message leaves a 32-byte pad)', () => {
    // 16 + 4 + 12 + 18 (appid) = 50 → 14 bytes of 14; 16 + 4 + 26 + 18 = 64 → a whole block of 32.
    const full = wecomEncrypt(aesKey, 'y'.repeat(26), appId);
    expect(Buffer.from(full, 'base64').length).toBe(96);
    expect(decryptPush(full, key, appId)).toBe('y'.repeat(26));
    const ours = encryptBlocks(
      key,
      framed(Buffer.from('y'.repeat(26)), appId, { count: 32, value: 32 }),
    );
    expect(wecomDecrypt(aesKey, ours)).toEqual(
      expect.objectContaining({ message: 'y'.repeat(26), id: appId }),
    );
  });
});

describe('decryptPush refuses malformed ciphertexts', () => {
  const key = randomBytes(32);
  const appId = 'wx0123456789abcdef';
  const good = (text: string) =>
    framed(Buffer.from(text), appId, {
      count: 32 - ((20 + text.length + appId.length) % 32),
      value: 32 - ((20 + text.length + appId.length) % 32),
    });

  it('opens a well-formed one (the control)', () => {
    expect(decryptPush(encryptBlocks(key, good('hello')), key, appId)).toBe('hello');
  });

  it.each([
    ['not base64', () => 'not*base64!'],
    ['a truncated ciphertext', () => encryptBlocks(key, good('hello')).slice(0, 40)],
    [
      'a ciphertext cut to whole blocks',
      () =>
        Buffer.from(encryptBlocks(key, good('hello'.repeat(10))), 'base64')
          .subarray(0, 48)
          .toString('base64'),
    ],
    ['one block only', () => encryptBlocks(key, randomBytes(16))],
    [
      'a zero pad byte',
      () => encryptBlocks(key, framed(Buffer.from('hello'), appId, { count: 5, value: 0 })),
    ],
    [
      'a pad longer than the block',
      () => encryptBlocks(key, framed(Buffer.from('hello'), appId, { count: 53, value: 33 })),
    ],
    [
      'inconsistent pad bytes',
      () => {
        const blocks = good('hello');
        blocks[blocks.length - 2] ^= 1;
        return encryptBlocks(key, blocks);
      },
    ],
    [
      'a length past the end',
      () => {
        const blocks = good('hello');
        blocks.writeUInt32BE(4096, 16);
        return encryptBlocks(key, blocks);
      },
    ],
    ['another key', () => encryptBlocks(randomBytes(32), good('hello'))],
  ])('%s', (_name, make) => {
    expect(() => decryptPush(make(), key, appId)).toThrow(PushRefused);
  });
});

describe('signatureMatches', () => {
  const expected = pushSignature(['a', 'b', 'c']);

  it('takes the signature, in either case', () => {
    expect(signatureMatches(expected, expected)).toBe(true);
    expect(signatureMatches(expected, expected.toUpperCase())).toBe(true);
  });

  it('refuses any other value', () => {
    expect(signatureMatches(expected, `${expected.slice(0, -1)}0`)).toBe(expected.endsWith('0'));
    expect(signatureMatches(expected, expected.slice(1))).toBe(false);
    expect(signatureMatches(expected, undefined)).toBe(false);
    expect(signatureMatches(expected, [expected])).toBe(false);
    expect(signatureMatches(expected, '')).toBe(false);
  });
});
