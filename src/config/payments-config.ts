import {
  X509Certificate,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Env } from './env.schema.js';

/**
 * WeChat Pay: real credentials, the sandbox (development and the embedded
 * quick start, no credentials), or off (production without WECHAT_PAY_MCHID:
 * the server boots and the payment routes answer 503).
 *
 * Keys are loaded once here and kept as KeyObjects: printing the config (or
 * an object holding it) shows no key material.
 */
export type PaymentsConfig =
  | {
      kind: 'wechat';
      appId: string;
      mchId: string;
      merchantSerial: string;
      privateKey: KeyObject;
      apiV3Key: KeyObject;
      /** Keys that verify WeChat Pay's signatures, by `Wechatpay-Serial`. */
      verifyingKeys: ReadonlyMap<string, KeyObject>;
      /** The `PUB_KEY_ID_…` id, when the WeChat Pay public key is configured. */
      publicKeyId: string | undefined;
      notifyUrl: string;
      apiBaseUrl: string;
      timeoutMs: number;
    }
  | { kind: 'sandbox' }
  | { kind: 'off' };

export class PaymentsConfigError extends Error {}

const fail = (message: string): never => {
  throw new PaymentsConfigError(`Invalid configuration: ${message}`);
};

function readKeyFile(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch {
    return fail(`${name} cannot be read (${path})`);
  }
}

/** Reads `file` (named by the variable `name`) and parses it; `notParsed` is the error otherwise. */
function parseKeyFile<T>(
  name: string,
  file: string,
  parse: (pem: Buffer) => T,
  notParsed: string,
): T {
  const pem = readKeyFile(name, file);
  try {
    return parse(pem);
  } catch {
    return fail(notParsed);
  }
}

function required<K extends keyof Env>(env: Env, name: K): NonNullable<Env[K]> {
  return env[name] ?? fail(`${name} is required when WECHAT_PAY_MCHID is set`);
}

/**
 * The keys that verify WeChat Pay's signatures, by serial: the WeChat Pay
 * public key, the previous ones still accepted, and platform certificates.
 */
function verifyingKeys(env: Env, publicKeyId: string | undefined): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  if (env.WECHAT_PAY_PUBLIC_KEY_FILE || publicKeyId) {
    if (!publicKeyId) fail('WECHAT_PAY_PUBLIC_KEY_ID is required with WECHAT_PAY_PUBLIC_KEY_FILE');
    const file = required(env, 'WECHAT_PAY_PUBLIC_KEY_FILE');
    keys.set(
      publicKeyId as string,
      parseKeyFile(
        'WECHAT_PAY_PUBLIC_KEY_FILE',
        file,
        createPublicKey,
        'WECHAT_PAY_PUBLIC_KEY_FILE is not a PEM public key',
      ),
    );
  }
  // WeChat Pay signs with the new key only after the switch it announces: until
  // the previous key is removed here, answers signed with either verify.
  const previousIds = env.WECHAT_PAY_PREVIOUS_PUBLIC_KEY_IDS;
  const previousFiles = env.WECHAT_PAY_PREVIOUS_PUBLIC_KEY_FILES;
  if (previousIds.length !== previousFiles.length)
    fail(
      'WECHAT_PAY_PREVIOUS_PUBLIC_KEY_IDS and WECHAT_PAY_PREVIOUS_PUBLIC_KEY_FILES must list as many entries, paired by position',
    );
  previousIds.forEach((id, i) => {
    if (id === publicKeyId) fail(`WECHAT_PAY_PREVIOUS_PUBLIC_KEY_IDS repeats the current ${id}`);
    keys.set(
      id,
      parseKeyFile(
        'WECHAT_PAY_PREVIOUS_PUBLIC_KEY_FILES',
        previousFiles[i],
        createPublicKey,
        `WECHAT_PAY_PREVIOUS_PUBLIC_KEY_FILES: ${previousFiles[i]} is not a PEM public key`,
      ),
    );
  });
  for (const file of env.WECHAT_PAY_PLATFORM_CERT_FILES) {
    const cert = parseKeyFile(
      'WECHAT_PAY_PLATFORM_CERT_FILES',
      file,
      (pem) => {
        const x509 = new X509Certificate(pem);
        return { serial: x509.serialNumber.toUpperCase(), key: x509.publicKey };
      },
      `WECHAT_PAY_PLATFORM_CERT_FILES: ${file} is not a PEM certificate`,
    );
    keys.set(cert.serial, cert.key);
  }
  if (keys.size === 0)
    fail(
      'WECHAT_PAY_PUBLIC_KEY_FILE and WECHAT_PAY_PUBLIC_KEY_ID (or WECHAT_PAY_PLATFORM_CERT_FILES) are required when WECHAT_PAY_MCHID is set',
    );
  return keys;
}

export function paymentsConfig(env: Env): PaymentsConfig {
  const production = env.NODE_ENV === 'production';
  if (!env.WECHAT_PAY_MCHID) return { kind: production ? 'off' : 'sandbox' };

  const appId = env.WECHAT_APPID ?? fail('WECHAT_APPID is required when WECHAT_PAY_MCHID is set');
  const merchantSerial = required(env, 'WECHAT_PAY_MERCHANT_SERIAL');
  const notifyUrl = required(env, 'WECHAT_PAY_NOTIFY_URL');
  if (production && !notifyUrl.startsWith('https://'))
    fail('WECHAT_PAY_NOTIFY_URL must be an https URL when NODE_ENV=production');

  const apiV3Key = Buffer.from(required(env, 'WECHAT_PAY_APIV3_KEY'), 'utf8');
  if (apiV3Key.length !== 32) fail('WECHAT_PAY_APIV3_KEY must be 32 bytes');

  const privateKey = parseKeyFile(
    'WECHAT_PAY_PRIVATE_KEY_FILE',
    required(env, 'WECHAT_PAY_PRIVATE_KEY_FILE'),
    createPrivateKey,
    'WECHAT_PAY_PRIVATE_KEY_FILE is not a PEM private key',
  );
  const publicKeyId = env.WECHAT_PAY_PUBLIC_KEY_ID;

  return {
    kind: 'wechat',
    appId,
    mchId: env.WECHAT_PAY_MCHID,
    merchantSerial,
    privateKey,
    apiV3Key: createSecretKey(apiV3Key),
    verifyingKeys: verifyingKeys(env, publicKeyId),
    publicKeyId,
    notifyUrl,
    apiBaseUrl: env.WECHAT_PAY_API_BASE_URL.replace(/\/+$/, ''),
    timeoutMs: env.WECHAT_PAY_TIMEOUT_MS,
  };
}
