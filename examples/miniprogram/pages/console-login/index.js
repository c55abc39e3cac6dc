import { describeError } from '../../format.js';

/** @type {{ client: import('../../lib/wx-mp-sdk.js').Client }} */
const { client } = getApp().globalData;

// The staff console's sign-in (docs/console.md in the backend): the browser
// shows a mini-program code of this page whose `scene` is a one-time ticket.
// A staff member scans it with WeChat, this page opens, and "Sign in"
// approves the ticket for their own account; the browser is then in.
Page({
  data: {
    ticket: '',
    state: 'ask',
    error: '',
  },

  /** @param {Record<string, string | undefined>} query */
  onLoad(query) {
    // A scanned code passes its scene URL-encoded in query.scene.
    const ticket = decodeURIComponent(query.scene || '');
    this.setData(
      ticket ? { ticket } : { state: 'failed', error: 'No sign-in ticket: scan the code again.' },
    );
  },

  async approve() {
    this.setData({ state: 'sending', error: '' });
    try {
      await client.approveConsoleLogin(this.data.ticket);
      this.setData({ state: 'done' });
    } catch (err) {
      // 403: not staff; 409: the code expired or was used: refresh it in the browser.
      this.setData({ state: 'failed', error: describeError(err) });
    }
  },

  cancel() {
    wx.navigateBack({ fail: () => wx.reLaunch({ url: '/pages/index/index' }) });
  },
});
