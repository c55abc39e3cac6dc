import { createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { Aes, Formatter, Rsa } from 'wechatpay-axios-plugin';
import {
  ResourceDecryptError,
  authorization,
  decryptResource,
  jsapiPayParams,
  nonce,
  requestMessage,
  responseMessage,
  sign,
  verify,
} from './signing.js';

// Our signer, verifier and decryptor are node:crypto; wechatpay-axios-plugin
// (a devDependency) is the reference they must agree with.
describe('WeChat Pay signing (checked against wechatpay-axios-plugin)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });

  it('builds the request message and Authorization header like the library', () => {
    const body = '{"mchid":"1900000109","amount":{"total":1}}';
    const n = nonce();
    const ts = 1700000000;
    expect(requestMessage('POST', '/v3/pay/transactions/jsapi', ts, n, body)).toBe(
      Formatter.request('POST', '/v3/pay/transactions/jsapi', ts, n, body),
    );
    expect(requestMessage('GET', '/v3/x?mchid=1', ts, n, '')).toBe(
      Formatter.request('GET', '/v3/x?mchid=1', ts, n, ''),
    );
    expect(
      authorization({
        mchId: '1900000109',
        serial: 'ABC',
        timestamp: ts,
        nonce: n,
        signature: 'sig',
      }),
    ).toBe(Formatter.authorization('1900000109', n, 'sig', ts, 'ABC'));
  });

  it('signs so that the library verifies, and verifies what the library signs', () => {
    const message = requestMessage(
      'POST',
      '/v3/refund/domestic/refunds',
      1700000000,
      nonce(),
      '{"a":"支付"}',
    );
    expect(Rsa.verify(message, sign(message, privateKey), publicKey)).toBe(true);
    const theirs = Rsa.sign(message, privateKey);
    expect(verify(message, theirs, publicKey)).toBe(true);
    expect(verify(message, theirs, other.publicKey)).toBe(false);
    expect(verify(`${message} `, theirs, publicKey)).toBe(false);
    expect(verify(message, 'not base64 at all!', publicKey)).toBe(false);
  });

  it('covers the body bytes as sent in a response message', () => {
    const body = Buffer.from('{"summary": "\\u652f\\u4ed8"}');
    expect(responseMessage('1700000000', 'n0', body).toString()).toBe(
      Formatter.response('1700000000', 'n0', body.toString()),
    );
  });

  it('gives wx.requestPayment parameters whose paySign the library verifies', () => {
    const params = jsapiPayParams(
      'wx-appid',
      'wx201410272009395522657a690389285100',
      privateKey,
      1_700_000_000_123,
    );
    expect(Object.keys(params).sort()).toEqual([
      'nonceStr',
      'package',
      'paySign',
      'signType',
      'timeStamp',
    ]);
    expect(params).toMatchObject({
      timeStamp: '1700000000',
      package: 'prepay_id=wx201410272009395522657a690389285100',
      signType: 'RSA',
    });
    expect(params.nonceStr).toMatch(/^[0-9A-Za-z]{32}$/);
    const signed = Formatter.joinedByLineFeed(
      'wx-appid',
      params.timeStamp,
      params.nonceStr,
      params.package,
    );
    expect(Rsa.verify(signed, params.paySign, publicKey)).toBe(true);
  });

  describe('AEAD_AES_256_GCM resources', () => {
    const keyText = randomBytes(16).toString('hex');
    const key = createSecretKey(Buffer.from(keyText));
    const encrypted = (plaintext: string, aad = 'transaction', k = keyText) => ({
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: Aes.AesGcm.encrypt(plaintext, k, 'abcdefghijkl', aad),
      nonce: 'abcdefghijkl',
      associated_data: aad,
    });

    it('decrypts what the library encrypts', () => {
      expect(decryptResource(encrypted('{"out_trade_no":"O1"}'), key)).toBe(
        '{"out_trade_no":"O1"}',
      );
    });

    it.each([
      ['another key', () => encrypted('{}', 'transaction', randomBytes(16).toString('hex'))],
      ['other associated data', () => ({ ...encrypted('{}'), associated_data: 'refund' })],
      ['another nonce', () => ({ ...encrypted('{}'), nonce: 'abcdefghijkm' })],
      [
        'a flipped ciphertext byte',
        () => {
          const r = encrypted('{"a":1}');
          const bytes = Buffer.from(r.ciphertext, 'base64');
          bytes[0] ^= 1;
          return { ...r, ciphertext: bytes.toString('base64') };
        },
      ],
      ['a truncated ciphertext', () => ({ ...encrypted('{}'), ciphertext: 'AAAA' })],
      ['another algorithm', () => ({ ...encrypted('{}'), algorithm: 'AEAD_SM4_GCM' })],
    ])('refuses a resource with %s', (_name, make) => {
      expect(() => decryptResource(make(), key)).toThrow(ResourceDecryptError);
    });
  });
});
