import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server that behaves like the WeChat server API, for e2e tests
 * and the benchmark (point WECHAT_API_BASE_URL at `url`). It checks appid and
 * secret like WeChat does, codes are single-use, and it counts calls.
 *
 *   const wx = await startFakeWechat();            // appid/secret of baseEnv()
 *   const { code, openid, sessionKey } = wx.issueCode();
 *   wx.failCode('bad', 40226);                     // this code answers errcode 40226
 *   wx.delayMs = 2000; wx.nonJson = true;          // slow / broken upstream
 *   wx.addPhoneCode('pc1', '13800138000');
 *   wx.invalidateAccessToken();                    // next phone call answers 40001
 */
export interface FakeWechat {
  url: string;
  appid: string;
  counts: { code2session: number; stableToken: number; phone: number; checksession: number };
  /** Every js_code exactly as WeChat decoded it from the query. */
  receivedCodes: string[];
  /** Applied to code2session answers. */
  delayMs: number;
  /** Applied to stable_token answers (makes refresh races observable). */
  tokenDelayMs: number;
  /** code2session answers an HTML error page instead of JSON. */
  nonJson: boolean;
  /** Every code2session answers this errcode while set. */
  failAll: number | undefined;
  issueCode(user?: { openid?: string; unionid?: string; code?: string }): {
    code: string;
    openid: string;
    sessionKey: string;
  };
  failCode(code: string, errcode: number): void;
  addPhoneCode(code: string, phoneNumber: string): void;
  /** The session_key WeChat last issued for the openid. */
  sessionKeyOf(openid: string): string | undefined;
  invalidateAccessToken(): void;
  close(): Promise<void>;
}

interface CodeEntry {
  openid: string;
  unionid?: string;
}

const DEFAULT_APPID = 'wx-test-appid';
const DEFAULT_SECRET = 'wechat-test-secret-value';

function send(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(JSON.stringify(body));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export async function startFakeWechat(
  options: { appid?: string; secret?: string } = {},
): Promise<FakeWechat> {
  const appid = options.appid ?? DEFAULT_APPID;
  const secret = options.secret ?? DEFAULT_SECRET;
  const codes = new Map<string, CodeEntry>();
  const usedCodes = new Set<string>();
  const failures = new Map<string, number>();
  const phoneCodes = new Map<string, string>();
  const sessionKeys = new Map<string, string>();
  let token: { value: string; expiresAt: number; valid: boolean } | undefined;
  let tokenSeq = 0;

  const fake: FakeWechat = {
    url: '',
    appid,
    counts: { code2session: 0, stableToken: 0, phone: 0, checksession: 0 },
    receivedCodes: [],
    delayMs: 0,
    tokenDelayMs: 0,
    nonJson: false,
    failAll: undefined,
    issueCode(user = {}) {
      const code = user.code ?? `c_${randomBytes(12).toString('hex')}`;
      const openid = user.openid ?? `o_${randomBytes(10).toString('hex')}`;
      codes.set(code, { openid, unionid: user.unionid });
      const sessionKey = randomBytes(16).toString('base64');
      // The key is decided when the code is issued so a test can encrypt with it.
      pendingKeys.set(code, sessionKey);
      return { code, openid, sessionKey };
    },
    failCode(code, errcode) {
      failures.set(code, errcode);
    },
    addPhoneCode(code, phoneNumber) {
      phoneCodes.set(code, phoneNumber);
    },
    sessionKeyOf(openid) {
      return sessionKeys.get(openid);
    },
    invalidateAccessToken() {
      if (token) token.valid = false;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Tests that abort slow requests must not leave the server waiting on them.
        server.closeAllConnections();
      }),
  };
  const pendingKeys = new Map<string, string>();

  const tokenIsValid = (value: string | null) =>
    token !== undefined && token.valid && token.value === value && token.expiresAt > Date.now();

  async function code2session(url: URL, res: ServerResponse): Promise<void> {
    fake.counts.code2session += 1;
    const q = url.searchParams;
    const code = q.get('js_code') ?? '';
    fake.receivedCodes.push(code);
    if (fake.delayMs > 0) await sleep(fake.delayMs);
    if (fake.nonJson) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>502 Bad Gateway</body></html>');
      return;
    }
    if (q.get('appid') !== appid) return send(res, { errcode: 40013, errmsg: 'invalid appid' });
    if (q.get('secret') !== secret)
      return send(res, { errcode: 40125, errmsg: 'invalid appsecret' });
    if (q.get('grant_type') !== 'authorization_code') {
      return send(res, { errcode: 40002, errmsg: 'invalid grant_type' });
    }
    if (fake.failAll !== undefined) return send(res, { errcode: fake.failAll, errmsg: 'failing' });
    const failure = failures.get(code);
    if (failure !== undefined) return send(res, { errcode: failure, errmsg: 'fake failure' });
    if (usedCodes.has(code)) return send(res, { errcode: 40163, errmsg: 'code been used' });
    const entry = codes.get(code);
    if (!entry) return send(res, { errcode: 40029, errmsg: 'invalid code' });
    usedCodes.add(code);
    const sessionKey = pendingKeys.get(code) ?? randomBytes(16).toString('base64');
    sessionKeys.set(entry.openid, sessionKey);
    send(res, {
      openid: entry.openid,
      session_key: sessionKey,
      ...(entry.unionid ? { unionid: entry.unionid } : {}),
    });
  }

  async function stableToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    fake.counts.stableToken += 1;
    const body = await readJson(req);
    if (fake.tokenDelayMs > 0) await sleep(fake.tokenDelayMs);
    if (body.grant_type !== 'client_credential') {
      return send(res, { errcode: 40002, errmsg: 'invalid grant_type' });
    }
    if (body.appid !== appid) return send(res, { errcode: 40013, errmsg: 'invalid appid' });
    if (body.secret !== secret) return send(res, { errcode: 40125, errmsg: 'invalid appsecret' });
    if (!token || !token.valid || body.force_refresh === true || token.expiresAt <= Date.now()) {
      tokenSeq += 1;
      token = {
        value: `AT_${tokenSeq}_${randomBytes(16).toString('hex')}`,
        expiresAt: Date.now() + 7_200_000,
        valid: true,
      };
    }
    send(res, {
      access_token: token.value,
      expires_in: Math.floor((token.expiresAt - Date.now()) / 1000),
    });
  }

  async function phone(url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    fake.counts.phone += 1;
    const body = await readJson(req);
    if (!tokenIsValid(url.searchParams.get('access_token'))) {
      return send(res, { errcode: 40001, errmsg: 'invalid credential, access_token is invalid' });
    }
    const code = typeof body.code === 'string' ? body.code : '';
    const number = phoneCodes.get(code);
    if (number === undefined) return send(res, { errcode: 40029, errmsg: 'invalid code' });
    phoneCodes.delete(code);
    send(res, {
      errcode: 0,
      errmsg: 'ok',
      phone_info: {
        phoneNumber: number,
        purePhoneNumber: number,
        countryCode: '86',
        watermark: { appid, timestamp: Math.floor(Date.now() / 1000) },
      },
    });
  }

  function checksession(url: URL, res: ServerResponse): void {
    fake.counts.checksession += 1;
    const q = url.searchParams;
    if (!tokenIsValid(q.get('access_token'))) {
      return send(res, { errcode: 40001, errmsg: 'invalid credential, access_token is invalid' });
    }
    if (q.get('sig_method') !== 'hmac_sha256') {
      return send(res, { errcode: 87010, errmsg: 'invalid sig_method' });
    }
    const key = sessionKeys.get(q.get('openid') ?? '');
    const expected = key ? createHmac('sha256', key).update('').digest('hex') : undefined;
    if (expected === undefined || expected !== q.get('signature')) {
      return send(res, { errcode: 87009, errmsg: 'invalid signature' });
    }
    send(res, { errcode: 0, errmsg: 'ok' });
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = `${req.method} ${url.pathname}`;
    const handle = (): Promise<void> | void => {
      switch (route) {
        case 'GET /sns/jscode2session':
          return code2session(url, res);
        case 'POST /cgi-bin/stable_token':
          return stableToken(req, res);
        case 'POST /wxa/business/getuserphonenumber':
          return phone(url, req, res);
        case 'GET /wxa/checksession':
          return checksession(url, res);
        default:
          res.writeHead(404).end();
      }
    };
    Promise.resolve(handle()).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
