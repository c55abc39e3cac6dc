import { SandboxWechatClient } from './sandbox-wechat-client.js';

describe('SandboxWechatClient', () => {
  it('checkSessionKey accepts the session_key it issued to that user and no other', async () => {
    const sandbox = new SandboxWechatClient('development');
    const { openid, sessionKey } = await sandbox.code2session('same-user');
    await expect(sandbox.checkSessionKey(openid, sessionKey)).resolves.toBe(true);
    const other = await sandbox.code2session('another-user');
    await expect(sandbox.checkSessionKey(openid, other.sessionKey)).resolves.toBe(false);
    await expect(sandbox.checkSessionKey('sandbox_unknown', sessionKey)).resolves.toBe(false);
  });

  it('gives a 16-byte base64 session_key, as WeChat does', async () => {
    const { sessionKey } = await new SandboxWechatClient('test').code2session('x');
    expect(Buffer.from(sessionKey, 'base64')).toHaveLength(16);
  });
});
