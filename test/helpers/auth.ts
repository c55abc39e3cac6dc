import { createCipheriv, randomBytes } from 'node:crypto';
import type { LoginResult } from '../../src/modules/auth/auth.view.js';
import type { TestApp } from './app.js';
import type { FakeWechat } from './fake-wechat.js';

export interface LoggedIn extends Pick<LoginResult, 'accessToken' | 'refreshToken' | 'user'> {
  openid: string;
}

/**
 * Logs a user in through the real POST /auth/login against the fake WeChat
 * (the app must run with WECHAT_API_BASE_URL = fakeWechat.url).
 *
 *   const admin = await loginAs(t, wx, { admin: true });
 *   await t.http.post('/api/v1/admin/products').set('Authorization', `Bearer ${admin.accessToken}`)
 *
 * `admin: true` logs in as the first openid of the app's ADMIN_OPENIDS, so
 * start the app with e.g. `ADMIN_OPENIDS: 'admin-openid'`. Without `openid`,
 * each call creates a new user.
 */
export async function loginAs(
  testApp: TestApp,
  fakeWechat: FakeWechat,
  options: { openid?: string; admin?: boolean; device?: string } = {},
): Promise<LoggedIn> {
  let openid = options.openid;
  if (options.admin) {
    openid = testApp.config.adminOpenIds[0];
    if (!openid) throw new Error('loginAs({ admin: true }) needs ADMIN_OPENIDS in the app env');
  }
  const { code, openid: issued } = fakeWechat.issueCode({ openid });
  const res = await testApp.http
    .post('/api/v1/auth/login')
    .send({ code, ...(options.device ? { device: options.device } : {}) });
  if (res.status !== 200) {
    throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const data = res.body.data as Omit<LoggedIn, 'openid'>;
  return {
    accessToken: data.accessToken,
    refreshToken: data.refreshToken,
    user: data.user,
    openid: issued,
  };
}

/** encryptedData/iv as wx.getUserInfo makes them: AES-128-CBC with the session_key. */
export function encryptProfile(sessionKey: string, payload: Record<string, unknown>) {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), iv);
  const data = Buffer.concat([cipher.update(JSON.stringify(payload)), cipher.final()]);
  return { encryptedData: data.toString('base64'), iv: iv.toString('base64') };
}
