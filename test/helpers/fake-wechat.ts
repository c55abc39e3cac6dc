import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';

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
 *   wx.failPhoneCode('pc2', 45011);                // this phone code answers errcode 45011
 *   wx.outage.add('code2session');                 // that API answers HTTP 503 (others work)
 *   wx.riskyWords.add('spam'); wx.reviewWords.add('maybe');   // msg_sec_check verdicts
 *   wx.secCheckErrcode = 61010;                    // msg_sec_check answers this errcode
 *   wx.pages.add('pages/index/index');             // pages getwxacodeunlimit knows
 *   wx.templates.add('tpl-paid');                  // subscribe templates of the mini-program
 *   wx.acceptSubscription(openid, 'tpl-paid');     // the user accepted one message (else 43101)
 *   wx.subscribeErrcode = -1;                      // subscribe/send answers this errcode
 *   wx.mediaCheckErrcodes.push(45009);            // media_check_async answers these errcodes first, in turn
 *   wx.shippingErrcode = 10060001;                 // upload_shipping_info answers this errcode
 *   wx.tradeManaged = false;                       // is_trade_managed answers this
 *
 * Error answers carry a rid in errmsg, like WeChat's ("… rid: 6592a0c5-…").
 */
export type FakeApi =
  | 'code2session'
  | 'stableToken'
  | 'phone'
  | 'checksession'
  | 'secCheck'
  | 'mediaCheck'
  | 'wxacode'
  | 'subscribeSend'
  | 'shippingUpload'
  | 'tradeManaged'
  | 'msgJumpPath'
  | 'getOrder'
  | 'confirmReminder';
export interface FakeWechat {
  url: string;
  appid: string;
  counts: Record<FakeApi, number>;
  /** Every js_code exactly as WeChat decoded it from the query. */
  receivedCodes: string[];
  /** The W3C traceparent header of every call to a known api (undefined when none). */
  traceparents: { api: FakeApi; traceparent: string | undefined }[];
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
  failPhoneCode(code: string, errcode: number): void;
  /** The openid each getuserphonenumber call carried (undefined when none). */
  phoneOpenids: (string | undefined)[];
  /** APIs that answer HTTP 503 with an HTML page while listed. */
  outage: Set<FakeApi>;
  /** checksession answers this errcode while set. */
  checksessionErrcode: number | undefined;
  /** msg_sec_check: content holding one of these words is risky / to review. */
  riskyWords: Set<string>;
  reviewWords: Set<string>;
  /** msg_sec_check answers this errcode while set. */
  secCheckErrcode: number | undefined;
  /** Every msg_sec_check body received. */
  secChecks: Record<string, unknown>[];
  /** media_check_async answers these errcodes (one per call, first in first out) before trace_ids. */
  mediaCheckErrcodes: number[];
  /** Every media_check_async body accepted, with the trace_id it was answered. */
  mediaChecks: { body: Record<string, unknown>; traceId: string }[];
  /** Pages of the published mini-program (getwxacodeunlimit with check_path). */
  pages: Set<string>;
  /** Every getwxacodeunlimit body received. */
  wxacodes: Record<string, unknown>[];
  /** Template ids of the mini-program's subscribe messages (others: 40037). */
  templates: Set<string>;
  /** What wx.requestSubscribeMessage grants: one message of the template to the user. */
  acceptSubscription(openid: string, templateId: string): void;
  /** subscribe/send answers this errcode while set. */
  subscribeErrcode: number | undefined;
  /** Every subscribe/send body WeChat accepted and delivered. */
  subscribeMessages: Record<string, unknown>[];
  /** The session_key WeChat last issued for the openid. */
  sessionKeyOf(openid: string): string | undefined;
  /** upload_shipping_info answers this errcode while set (10060001, 10060019, …). */
  shippingErrcode: number | undefined;
  /** Every upload_shipping_info body WeChat accepted. */
  shippingUploads: Record<string, unknown>[];
  /** What is_trade_managed answers (true by default). */
  tradeManaged: boolean;
  /** Every path set_msg_jump_path was given. */
  msgJumpPaths: string[];
  /**
   * get_order's order_state by transaction id (3 confirmed, 4 settled…);
   * an uploaded order without one is 2, any other payment unknown (10060001).
   */
  orderStates: Map<string, number>;
  /** Every notify_confirm_receive body WeChat accepted. */
  receiptReminders: Record<string, unknown>[];
  /** The current token dies: calls with it answer `errcode` (40001, 40014 or 42001). */
  invalidateAccessToken(errcode?: number): void;
  close(): Promise<void>;
}

interface CodeEntry {
  openid: string;
  unionid?: string;
}

const DEFAULT_APPID = 'wx-test-appid';
const DEFAULT_SECRET = 'wechat-test-secret-value';

function send(res: ServerResponse, body: unknown): void {
  const answer = body as { errcode?: number; errmsg?: string };
  // WeChat appends its request id to every error message.
  if (typeof answer.errcode === 'number' && answer.errcode !== 0 && answer.errmsg) {
    answer.errmsg = `${answer.errmsg} rid: ${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(JSON.stringify(body));
}

function sendOutage(res: ServerResponse): void {
  res.writeHead(503, { 'content-type': 'text/html' });
  res.end('<html><body>503 Service Unavailable</body></html>');
}

/** A tiny valid PNG (1×1 grey), the stand-in for a mini-program code. */
function png(seed: string): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf: Buffer) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const typed = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(typed));
    return Buffer.concat([len, typed, sum]);
  };
  const header = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
  // The seed goes into a text chunk, so different requests give different bytes.
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('tEXt', Buffer.from(`Comment\0${seed}`, 'latin1')),
    chunk('IDAT', deflateSync(Buffer.from([0, 0x80]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

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
  const phoneFailures = new Map<string, number>();
  const sessionKeys = new Map<string, string>();
  let token: { value: string; expiresAt: number; valid: boolean } | undefined;
  let tokenSeq = 0;
  let deadTokenErrcode = 40001;

  const fake: FakeWechat = {
    url: '',
    appid,
    counts: {
      code2session: 0,
      stableToken: 0,
      phone: 0,
      checksession: 0,
      secCheck: 0,
      mediaCheck: 0,
      wxacode: 0,
      subscribeSend: 0,
      shippingUpload: 0,
      tradeManaged: 0,
      msgJumpPath: 0,
      getOrder: 0,
      confirmReminder: 0,
    },
    phoneOpenids: [],
    outage: new Set(),
    checksessionErrcode: undefined,
    riskyWords: new Set(),
    reviewWords: new Set(),
    secCheckErrcode: undefined,
    secChecks: [],
    mediaCheckErrcodes: [],
    mediaChecks: [],
    pages: new Set(['pages/index/index']),
    wxacodes: [],
    templates: new Set(),
    subscribeErrcode: undefined,
    subscribeMessages: [],
    shippingErrcode: undefined,
    shippingUploads: [],
    tradeManaged: true,
    msgJumpPaths: [],
    orderStates: new Map(),
    receiptReminders: [],
    acceptSubscription(openid, templateId) {
      const key = `${openid} ${templateId}`;
      subscriptions.set(key, (subscriptions.get(key) ?? 0) + 1);
    },
    receivedCodes: [],
    traceparents: [],
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
    failPhoneCode(code, errcode) {
      phoneFailures.set(code, errcode);
    },
    sessionKeyOf(openid) {
      return sessionKeys.get(openid);
    },
    invalidateAccessToken(errcode = 40001) {
      if (token) {
        token.valid = false;
        deadTokenErrcode = errcode;
      }
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Tests that abort slow requests must not leave the server waiting on them.
        server.closeAllConnections();
      }),
  };
  const pendingKeys = new Map<string, string>();
  const subscriptions = new Map<string, number>();

  const TOKEN_ERRMSG: Record<number, string> = {
    40001: 'invalid credential, access_token is invalid or not latest',
    40014: 'invalid access_token',
    42001: 'access_token expired',
  };
  const tokenError = () => ({
    errcode: deadTokenErrcode,
    errmsg: TOKEN_ERRMSG[deadTokenErrcode] ?? 'invalid credential',
  });
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
      return send(res, tokenError());
    }
    fake.phoneOpenids.push(typeof body.openid === 'string' ? body.openid : undefined);
    const code = typeof body.code === 'string' ? body.code : '';
    const failure = phoneFailures.get(code);
    if (failure !== undefined) return send(res, { errcode: failure, errmsg: 'fake failure' });
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
      return send(res, tokenError());
    }
    if (fake.checksessionErrcode !== undefined) {
      return send(res, { errcode: fake.checksessionErrcode, errmsg: 'failing' });
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

  async function mediaCheck(url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    fake.counts.mediaCheck += 1;
    const body = await readJson(req);
    if (!tokenIsValid(url.searchParams.get('access_token'))) {
      return send(res, tokenError());
    }
    const errcode = fake.mediaCheckErrcodes.shift();
    if (errcode !== undefined) return send(res, { errcode, errmsg: 'failing' });
    const { media_url: mediaUrl, media_type: mediaType, version, openid, scene } = body;
    if (version !== 2 || typeof mediaUrl !== 'string' || ![1, 2].includes(mediaType as number)) {
      return send(res, { errcode: 47001, errmsg: 'data format error' });
    }
    if (typeof scene !== 'number' || ![1, 2, 3, 4].includes(scene)) {
      return send(res, { errcode: 40129, errmsg: 'invalid scene' });
    }
    if (typeof openid !== 'string' || !sessionKeys.has(openid)) {
      return send(res, { errcode: 40003, errmsg: 'invalid openid' });
    }
    const traceId = randomBytes(12).toString('hex');
    fake.mediaChecks.push({ body, traceId });
    send(res, { errcode: 0, errmsg: 'ok', trace_id: traceId });
  }

  async function secCheck(url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    fake.counts.secCheck += 1;
    const body = await readJson(req);
    fake.secChecks.push(body);
    if (!tokenIsValid(url.searchParams.get('access_token'))) {
      return send(res, tokenError());
    }
    if (fake.secCheckErrcode !== undefined) {
      return send(res, { errcode: fake.secCheckErrcode, errmsg: 'failing' });
    }
    const { version, openid, scene, content } = body;
    if (version !== 2 || typeof content !== 'string') {
      return send(res, { errcode: 47001, errmsg: 'data format error' });
    }
    if (typeof scene !== 'number' || ![1, 2, 3, 4].includes(scene)) {
      return send(res, { errcode: 40129, errmsg: 'invalid scene' });
    }
    // v2 needs an openid this mini-program issued (and seen lately: 61010 otherwise).
    if (typeof openid !== 'string' || !sessionKeys.has(openid)) {
      return send(res, { errcode: 40003, errmsg: 'invalid openid' });
    }
    if (content.length > 2500)
      return send(res, { errcode: 45002, errmsg: 'content size out of limit' });
    const has = (words: Set<string>) => [...words].some((w) => content.includes(w));
    const [suggest, label] = has(fake.riskyWords)
      ? ['risky', 20002]
      : has(fake.reviewWords)
        ? ['review', 21000]
        : ['pass', 100];
    send(res, {
      errcode: 0,
      errmsg: 'ok',
      detail: [{ strategy: 'content_model', errcode: 0, suggest, label, prob: 90 }],
      result: { suggest, label },
      trace_id: randomBytes(8).toString('hex'),
    });
  }

  async function wxacode(url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    fake.counts.wxacode += 1;
    const body = await readJson(req);
    fake.wxacodes.push(body);
    // WeChat answers its errors as JSON with this type, and the image as image/*.
    const sendError = (errcode: number, errmsg: string) => {
      res.writeHead(200, { 'content-type': 'application/json; encoding=utf-8' });
      res.end(
        JSON.stringify({
          errcode,
          errmsg: `${errmsg} rid: ${randomBytes(4).toString('hex')}-00000000-00000000`,
        }),
      );
    };
    if (!tokenIsValid(url.searchParams.get('access_token'))) {
      const dead = tokenError();
      return sendError(dead.errcode, dead.errmsg);
    }
    const { scene, page, width } = body;
    if (typeof scene !== 'string' || scene.length === 0 || scene.length > 32) {
      return sendError(40169, 'invalid length for scene, or the data is not json string');
    }
    if (
      page !== undefined &&
      (typeof page !== 'string' || (body.check_path !== false && !fake.pages.has(page)))
    ) {
      return sendError(41030, 'invalid page');
    }
    if (width !== undefined && typeof width !== 'number') {
      return sendError(47001, 'data format error');
    }
    const image = png(`${String(page ?? '')}?${scene}&${String(width ?? 430)}`);
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': image.length });
    res.end(image);
  }

  // WeChat's limits per keyword type (what a value may hold, and how long).
  const KEYWORD_RULES: Record<string, (v: string) => boolean> = {
    thing: (v) => Array.from(v).length <= 20,
    phrase: (v) => /^[\u4e00-\u9fa5]{1,5}$/.test(v),
    number: (v) => /^[0-9.]{1,32}$/.test(v),
    letter: (v) => /^[A-Za-z]{1,32}$/.test(v),
    symbol: (v) => Array.from(v).length <= 5,
    character_string: (v) => /^[\x21-\x7e]{1,32}$/.test(v),
    amount: (v) => /^[¥$]?\d{1,10}(\.\d{1,2})?元?$/.test(v),
    date: (v) => /^\d{4}年\d{1,2}月\d{1,2}日( \d{2}:\d{2})?$/.test(v),
    time: (v) => /^(\d{4}年\d{1,2}月\d{1,2}日 )?\d{2}:\d{2}$/.test(v),
  };

  const SUBSCRIBE_ERRMSG: Record<number, string> = {
    43101: 'user refuse to accept the msg',
    47003: 'argument invalid! data.thing2.value invalid',
    40037: 'invalid template id',
    [-1]: 'system error',
  };

  async function subscribeSend(url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    fake.counts.subscribeSend += 1;
    const body = await readJson(req);
    if (!tokenIsValid(url.searchParams.get('access_token'))) return send(res, tokenError());
    if (fake.subscribeErrcode !== undefined) {
      const errmsg = SUBSCRIBE_ERRMSG[fake.subscribeErrcode] ?? 'system error';
      return send(res, { errcode: fake.subscribeErrcode, errmsg });
    }
    const { touser, template_id: templateId, data, miniprogram_state: state } = body;
    if (typeof touser !== 'string' || !sessionKeys.has(touser)) {
      return send(res, { errcode: 40003, errmsg: 'invalid openid' });
    }
    if (typeof templateId !== 'string' || !fake.templates.has(templateId)) {
      return send(res, { errcode: 40037, errmsg: 'invalid template id' });
    }
    if (state !== undefined && !['formal', 'trial', 'developer'].includes(state as string)) {
      return send(res, { errcode: 47003, errmsg: 'argument invalid! miniprogram_state invalid' });
    }
    if (typeof data !== 'object' || data === null || Object.keys(data).length === 0) {
      return send(res, { errcode: 47003, errmsg: 'argument invalid! data is empty' });
    }
    for (const [key, entry] of Object.entries(data as Record<string, { value?: unknown }>)) {
      const value = entry?.value;
      const rule = KEYWORD_RULES[/^([a-z_]+?)\d+$/.exec(key)?.[1] ?? ''];
      if (typeof value !== 'string' || value.length === 0 || !rule || !rule(value)) {
        return send(res, { errcode: 47003, errmsg: `argument invalid! data.${key}.value invalid` });
      }
    }
    const key = `${touser} ${templateId}`;
    const left = subscriptions.get(key) ?? 0;
    if (left === 0) return send(res, { errcode: 43101, errmsg: 'user refuse to accept the msg' });
    subscriptions.set(key, left - 1);
    fake.subscribeMessages.push(body);
    send(res, { errcode: 0, errmsg: 'ok', msgid: Number(randomBytes(4).readUInt32BE(0)) });
  }

  const SHIPPING_ERRMSG: Record<number, string> = {
    10060001: '支付单不存在',
    10060003: '订单已发货',
    10060019: '系统异常',
    268485216: 'upload_time 非法，请按照 RFC 3339 格式填写',
    [-1]: 'system error',
  };
  // RFC 3339 with an explicit offset, as WeChat requires of upload_time.
  const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$/;
  const shippedKeys = new Set<string>();

  async function shippingUpload(
    url: URL,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    fake.counts.shippingUpload += 1;
    const body = await readJson(req);
    if (!tokenIsValid(url.searchParams.get('access_token'))) return send(res, tokenError());
    const fail = (errcode: number, errmsg = SHIPPING_ERRMSG[errcode] ?? 'system error') =>
      send(res, { errcode, errmsg });
    if (fake.shippingErrcode !== undefined) return fail(fake.shippingErrcode);
    const key = body.order_key as Record<string, unknown> | undefined;
    const orderKey =
      key?.order_number_type === 2 && typeof key.transaction_id === 'string'
        ? `tx:${key.transaction_id}`
        : key?.order_number_type === 1 &&
            typeof key.mchid === 'string' &&
            typeof key.out_trade_no === 'string'
          ? `no:${key.mchid}:${key.out_trade_no}`
          : undefined;
    if (!orderKey) return fail(47001, 'data format error: order_key');
    const list = body.shipping_list as Record<string, unknown>[] | undefined;
    const logistics = body.logistics_type;
    // delivery_mode 1: one parcel; 2: split delivery, all parcels at once (is_all_delivered).
    const split = body.delivery_mode === 2 && body.is_all_delivered === true;
    if (
      ![1, 2, 3, 4].includes(logistics as number) ||
      !(body.delivery_mode === 1 || split) ||
      !Array.isArray(list) ||
      list.length < 1 ||
      list.length > 10 ||
      (body.delivery_mode === 1 && list.length !== 1) ||
      list.some(
        (parcel) =>
          typeof parcel.item_desc !== 'string' ||
          Array.from(parcel.item_desc).length > 120 ||
          (logistics === 1 &&
            (typeof parcel.tracking_no !== 'string' || typeof parcel.express_company !== 'string')),
      )
    ) {
      return fail(47001, 'data format error: shipping_list');
    }
    const payer = body.payer as { openid?: unknown } | undefined;
    if (typeof payer?.openid !== 'string') return fail(47001, 'data format error: payer');
    if (typeof body.upload_time !== 'string' || !RFC3339.test(body.upload_time)) {
      return fail(268485216);
    }
    if (shippedKeys.has(orderKey)) return fail(10060003);
    shippedKeys.add(orderKey);
    fake.shippingUploads.push(body);
    send(res, { errcode: 0, errmsg: 'ok' });
  }

  async function tradeManaged(url: URL, req: IncomingMessage, res: ServerResponse) {
    fake.counts.tradeManaged += 1;
    const body = await readJson(req);
    if (!tokenIsValid(url.searchParams.get('access_token'))) return send(res, tokenError());
    if (body.appid !== appid) return send(res, { errcode: 40013, errmsg: 'invalid appid' });
    send(res, { errcode: 0, errmsg: 'ok', is_trade_managed: fake.tradeManaged });
  }

  async function msgJumpPath(url: URL, req: IncomingMessage, res: ServerResponse) {
    fake.counts.msgJumpPath += 1;
    const body = await readJson(req);
    if (!tokenIsValid(url.searchParams.get('access_token'))) return send(res, tokenError());
    if (typeof body.path !== 'string' || body.path === '') {
      return send(res, { errcode: 47001, errmsg: 'data format error: path' });
    }
    fake.msgJumpPaths.push(body.path);
    send(res, { errcode: 0, errmsg: 'ok' });
  }

  async function getOrder(url: URL, req: IncomingMessage, res: ServerResponse) {
    fake.counts.getOrder += 1;
    const body = await readJson(req);
    if (!tokenIsValid(url.searchParams.get('access_token'))) return send(res, tokenError());
    const key =
      typeof body.transaction_id === 'string'
        ? `tx:${body.transaction_id}`
        : typeof body.merchant_id === 'string' && typeof body.merchant_trade_no === 'string'
          ? `no:${body.merchant_id}:${body.merchant_trade_no}`
          : undefined;
    if (!key) return send(res, { errcode: 47001, errmsg: 'data format error' });
    const explicit =
      typeof body.transaction_id === 'string'
        ? fake.orderStates.get(body.transaction_id)
        : undefined;
    const state = explicit ?? (shippedKeys.has(key) ? 2 : undefined);
    if (state === undefined) return send(res, { errcode: 10060001, errmsg: '支付单不存在' });
    send(res, {
      errcode: 0,
      errmsg: 'ok',
      order: { transaction_id: body.transaction_id, order_state: state, in_complaint: false },
    });
  }

  async function confirmReminder(url: URL, req: IncomingMessage, res: ServerResponse) {
    fake.counts.confirmReminder += 1;
    const body = await readJson(req);
    if (!tokenIsValid(url.searchParams.get('access_token'))) return send(res, tokenError());
    const key =
      typeof body.transaction_id === 'string'
        ? `tx:${body.transaction_id}`
        : `no:${String(body.merchant_id)}:${String(body.merchant_trade_no)}`;
    if (!shippedKeys.has(key)) return send(res, { errcode: 10060001, errmsg: '支付单不存在' });
    if (typeof body.received_time !== 'number') {
      return send(res, { errcode: 47001, errmsg: 'data format error: received_time' });
    }
    fake.receiptReminders.push(body);
    send(res, { errcode: 0, errmsg: 'ok' });
  }

  const apiOf: Record<string, FakeApi> = {
    'GET /sns/jscode2session': 'code2session',
    'POST /cgi-bin/stable_token': 'stableToken',
    'POST /wxa/business/getuserphonenumber': 'phone',
    'GET /wxa/checksession': 'checksession',
    'POST /wxa/msg_sec_check': 'secCheck',
    'POST /wxa/media_check_async': 'mediaCheck',
    'POST /wxa/getwxacodeunlimit': 'wxacode',
    'POST /cgi-bin/message/subscribe/send': 'subscribeSend',
    'POST /wxa/sec/order/upload_shipping_info': 'shippingUpload',
    'POST /wxa/sec/order/is_trade_managed': 'tradeManaged',
    'POST /wxa/sec/order/set_msg_jump_path': 'msgJumpPath',
    'POST /wxa/sec/order/get_order': 'getOrder',
    'POST /wxa/sec/order/notify_confirm_receive': 'confirmReminder',
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = `${req.method} ${url.pathname}`;
    const api = apiOf[route];
    if (api) fake.traceparents.push({ api, traceparent: req.headers.traceparent as string });
    if (api && fake.outage.has(api)) {
      fake.counts[api] += 1;
      return sendOutage(res);
    }
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
        case 'POST /wxa/msg_sec_check':
          return secCheck(url, req, res);
        case 'POST /wxa/media_check_async':
          return mediaCheck(url, req, res);
        case 'POST /wxa/getwxacodeunlimit':
          return wxacode(url, req, res);
        case 'POST /cgi-bin/message/subscribe/send':
          return subscribeSend(url, req, res);
        case 'POST /wxa/sec/order/upload_shipping_info':
          return shippingUpload(url, req, res);
        case 'POST /wxa/sec/order/is_trade_managed':
          return tradeManaged(url, req, res);
        case 'POST /wxa/sec/order/set_msg_jump_path':
          return msgJumpPath(url, req, res);
        case 'POST /wxa/sec/order/get_order':
          return getOrder(url, req, res);
        case 'POST /wxa/sec/order/notify_confirm_receive':
          return confirmReminder(url, req, res);
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
