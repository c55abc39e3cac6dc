import { createClient } from './lib/wx-mp-sdk.js';
import { BASE_URL } from './config.js';

// One client for the whole mini-program: every page shares its token pair
// (kept in wx storage) and its single refresh.
const client = createClient({
  baseUrl: BASE_URL,
  device: 'example-miniprogram',
  // The session ended (40102: logged out on another device, say): sign in
  // again silently, as the default would, and tell the user.
  onSessionEnded: async (c) => {
    await c.login();
    wx.showToast({ title: 'Signed in again', icon: 'none' });
  },
});

App({
  globalData: { client },
});
