import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError, loadConfig } from './app-config.js';

describe('WeChat Pay configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paycfg-'));
  const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  writeFileSync(join(dir, 'key.pem'), privatePem);
  writeFileSync(join(dir, 'pub.pem'), platform.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'junk.pem'), 'not a key');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const production = {
    NODE_ENV: 'production',
    DATABASE_URL: 'mysql://app@db/shop',
    REDIS_URL: 'redis://cache:6379',
    JWT_SECRET: 'x'.repeat(32),
    WECHAT_APPID: 'wx123',
    WECHAT_SECRET: 'secret',
  };
  const credentials = {
    WECHAT_PAY_MCHID: '1900000109',
    WECHAT_PAY_MERCHANT_SERIAL: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
    WECHAT_PAY_PRIVATE_KEY_FILE: join(dir, 'key.pem'),
    WECHAT_PAY_APIV3_KEY: 'k'.repeat(32),
    WECHAT_PAY_PUBLIC_KEY_FILE: join(dir, 'pub.pem'),
    WECHAT_PAY_PUBLIC_KEY_ID: 'PUB_KEY_ID_0114232134912410000000000000',
    WECHAT_PAY_NOTIFY_URL: 'https://shop.example.com/api/v1/payments/wechat/notify',
  };
  const errorOf = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('expected loadConfig to fail');
  };

  it('trusts the previous WeChat Pay public keys by their ids beside the current one', () => {
    const previous = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'old.pem'), previous.publicKey.export({ type: 'spki', format: 'pem' }));
    const config = loadConfig({
      ...production,
      ...credentials,
      WECHAT_PAY_PREVIOUS_PUBLIC_KEY_IDS: 'PUB_KEY_ID_0114OLD1',
      WECHAT_PAY_PREVIOUS_PUBLIC_KEY_FILES: join(dir, 'old.pem'),
    });
    if (config.payments.kind !== 'wechat') throw new Error('expected real credentials');
    expect([...config.payments.verifyingKeys.keys()].sort()).toEqual(
      [credentials.WECHAT_PAY_PUBLIC_KEY_ID, 'PUB_KEY_ID_0114OLD1'].sort(),
    );
    expect(
      config.payments.verifyingKeys.get('PUB_KEY_ID_0114OLD1')?.equals(previous.publicKey),
    ).toBe(true);
    // Requests still name the current key: WeChat Pay encrypts for that one.
    expect(config.payments.publicKeyId).toBe(credentials.WECHAT_PAY_PUBLIC_KEY_ID);
  });

  it('is off in production without WECHAT_PAY_MCHID (the server still boots)', () => {
    expect(loadConfig(production).payments).toEqual({ kind: 'off' });
  });

  it('is the sandbox in development, test and the embedded quick start', () => {
    expect(loadConfig({}).payments).toEqual({ kind: 'sandbox' });
    expect(loadConfig({ ...production, NODE_ENV: 'test' }).payments).toEqual({ kind: 'sandbox' });
  });

  it('loads real credentials as key objects that print no key material', () => {
    const config = loadConfig({ ...production, ...credentials });
    expect(config.payments).toMatchObject({
      kind: 'wechat',
      appId: 'wx123',
      mchId: '1900000109',
      publicKeyId: credentials.WECHAT_PAY_PUBLIC_KEY_ID,
      apiBaseUrl: 'https://api.mch.weixin.qq.com',
      timeoutMs: 5000,
    });
    const printed = inspect(config, { depth: 10 });
    expect(printed).not.toContain(privatePem.split('\n')[1]);
    expect(printed).not.toContain(credentials.WECHAT_PAY_APIV3_KEY);
  });

  it.each([
    [
      'WECHAT_PAY_MERCHANT_SERIAL',
      { WECHAT_PAY_MERCHANT_SERIAL: '' },
      /WECHAT_PAY_MERCHANT_SERIAL is required/,
    ],
    ['WECHAT_PAY_NOTIFY_URL', { WECHAT_PAY_NOTIFY_URL: '' }, /WECHAT_PAY_NOTIFY_URL is required/],
    [
      'an http notify URL',
      { WECHAT_PAY_NOTIFY_URL: 'http://shop.example.com/n' },
      /WECHAT_PAY_NOTIFY_URL must be an https URL/,
    ],
    [
      'a short APIv3 key',
      { WECHAT_PAY_APIV3_KEY: 'short' },
      /WECHAT_PAY_APIV3_KEY must be 32 bytes/,
    ],
    [
      'a missing key file',
      { WECHAT_PAY_PRIVATE_KEY_FILE: join(dir, 'nope.pem') },
      /WECHAT_PAY_PRIVATE_KEY_FILE cannot be read/,
    ],
    [
      'a key file that is no key',
      { WECHAT_PAY_PRIVATE_KEY_FILE: join(dir, 'junk.pem') },
      /WECHAT_PAY_PRIVATE_KEY_FILE is not a PEM private key/,
    ],
    [
      'a public key file that is no key',
      { WECHAT_PAY_PUBLIC_KEY_FILE: join(dir, 'junk.pem') },
      /WECHAT_PAY_PUBLIC_KEY_FILE is not a PEM public key/,
    ],
    [
      'a malformed public key id',
      { WECHAT_PAY_PUBLIC_KEY_ID: 'KEY1' },
      /WECHAT_PAY_PUBLIC_KEY_ID must look like PUB_KEY_ID_/,
    ],
    [
      'previous key ids and files that do not pair up',
      { WECHAT_PAY_PREVIOUS_PUBLIC_KEY_IDS: 'PUB_KEY_ID_0114OLD1,PUB_KEY_ID_0114OLD2' },
      /WECHAT_PAY_PREVIOUS_PUBLIC_KEY_IDS and WECHAT_PAY_PREVIOUS_PUBLIC_KEY_FILES must list as many/,
    ],
    [
      'a previous key file that is no key',
      {
        WECHAT_PAY_PREVIOUS_PUBLIC_KEY_IDS: 'PUB_KEY_ID_0114OLD1',
        WECHAT_PAY_PREVIOUS_PUBLIC_KEY_FILES: join(dir, 'junk.pem'),
      },
      /WECHAT_PAY_PREVIOUS_PUBLIC_KEY_FILES: .*junk.pem is not a PEM public key/,
    ],
    [
      'a malformed previous key id',
      {
        WECHAT_PAY_PREVIOUS_PUBLIC_KEY_IDS: 'KEY1',
        WECHAT_PAY_PREVIOUS_PUBLIC_KEY_FILES: join(dir, 'pub.pem'),
      },
      /WECHAT_PAY_PREVIOUS_PUBLIC_KEY_IDS must be a comma-separated list of PUB_KEY_ID_/,
    ],
    [
      'the current key id among the previous ones',
      {
        WECHAT_PAY_PREVIOUS_PUBLIC_KEY_IDS: credentials.WECHAT_PAY_PUBLIC_KEY_ID,
        WECHAT_PAY_PREVIOUS_PUBLIC_KEY_FILES: join(dir, 'pub.pem'),
      },
      /WECHAT_PAY_PREVIOUS_PUBLIC_KEY_IDS repeats the current/,
    ],
    [
      'no key to verify WeChat Pay with',
      { WECHAT_PAY_PUBLIC_KEY_FILE: '', WECHAT_PAY_PUBLIC_KEY_ID: '' },
      /WECHAT_PAY_PUBLIC_KEY_FILE and WECHAT_PAY_PUBLIC_KEY_ID/,
    ],
  ])('refuses to boot with %s, naming the variable', (_name, change, message) => {
    expect(errorOf({ ...production, ...credentials, ...change })).toMatch(message);
  });
});
