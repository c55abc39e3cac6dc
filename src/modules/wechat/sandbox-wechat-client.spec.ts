import { SandboxWechatClient } from './sandbox-wechat-client.js';
import { SubscribeRejected } from './wechat-errors.js';
import { PNG_SIGNATURE } from './sandbox-png.js';

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

describe('SandboxWechatClient content check and mini-program code', () => {
  const sandbox = new SandboxWechatClient('development');
  const check = (content: string) => sandbox.checkText({ openid: 'o', scene: 1, content });

  it('passes ordinary text and answers risky/review for the marker words', async () => {
    await expect(check('绿茶')).resolves.toMatchObject({ suggest: 'pass' });
    await expect(check('buy [risky] stuff')).resolves.toMatchObject({ suggest: 'risky' });
    await expect(check('maybe [review]')).resolves.toMatchObject({ suggest: 'review' });
  });

  it('draws a PNG of the requested width, the same for one scene and different for another', async () => {
    const a = await sandbox.wxaCodeUnlimited({ scene: 'id=1', width: 280 });
    const again = await sandbox.wxaCodeUnlimited({ scene: 'id=1', width: 280 });
    const other = await sandbox.wxaCodeUnlimited({ scene: 'id=2', width: 280 });
    expect(a.contentType).toBe('image/png');
    expect(a.body.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(a.body.readUInt32BE(16)).toBe(280);
    expect(a.body.readUInt32BE(20)).toBe(280);
    expect(again.body).toEqual(a.body);
    expect(other.body).not.toEqual(a.body);
  });
});

describe('SandboxWechatClient subscribe messages', () => {
  const wx = new SandboxWechatClient('development');
  const message = {
    openid: 'sandbox_x',
    templateId: 'tpl',
    miniprogramState: 'developer' as const,
  };

  it('sends a message whose values are all filled', async () => {
    await expect(wx.sendSubscribeMessage({ ...message, data: { thing1: '普洱' } })).resolves.toBe(
      'sent',
    );
  });

  it('refuses an empty value like WeChat, 47003 naming the keyword', async () => {
    const sent = wx.sendSubscribeMessage({ ...message, data: { thing1: 'a', amount2: '' } });
    await expect(sent).rejects.toBeInstanceOf(SubscribeRejected);
    await expect(sent).rejects.toMatchObject({ errcode: 47003 });
    await expect(sent).rejects.toThrow(/data\.amount2/);
  });
});

describe('SandboxWechatClient shipping upload', () => {
  it('accepts the upload (the embedded quick start ships without WeChat)', async () => {
    const wx = new SandboxWechatClient('development');
    await expect(
      wx.uploadShippingInfo({
        orderKey: { type: 1, mchid: 'sandbox', outTradeNo: 'WX1' },
        logisticsType: 4,
        shippingList: [{ trackingNo: null, expressCompany: null, itemDesc: '普洱' }],
        uploadTime: '2026-12-02T08:00:00+08:00',
        payerOpenid: 'sandbox_x',
      }),
    ).resolves.toBe('uploaded');
  });
});
