import { describeError, yuan } from '../../format.js';

/** @type {{ client: import('../../lib/wx-mp-sdk.js').Client }} */
const { client } = getApp().globalData;

// The product list: public, so it loads before any login; the first
// authenticated call (placing an order) signs in through the SDK.
Page({
  data: {
    /** @type {Array<import('../../lib/wx-mp-sdk.js').Product & { price: string }>} */
    products: [],
    /** @type {string | null} */
    nextCursor: null,
    /** @type {import('../../lib/wx-mp-sdk.js').LoginResult['user'] | null} */
    user: null,
    error: '',
    busy: false,
  },

  onLoad() {
    this.loadMore();
  },

  async onPullDownRefresh() {
    this.setData({ products: [], nextCursor: null });
    await this.loadMore();
    wx.stopPullDownRefresh();
  },

  onReachBottom() {
    if (this.data.nextCursor) this.loadMore();
  },

  async loadMore() {
    try {
      const page = await client.products({ cursor: this.data.nextCursor || undefined, limit: 20 });
      const items = page.items.map((p) => ({ ...p, price: yuan(p.priceCents) }));
      this.setData({
        products: this.data.products.concat(items),
        nextCursor: page.nextCursor,
        error: '',
      });
    } catch (err) {
      this.setData({ error: describeError(err) });
    }
  },

  async signIn() {
    try {
      const { user } = await client.login();
      this.setData({ user, error: '' });
    } catch (err) {
      this.setData({ error: describeError(err) });
    }
  },

  /** @param {WechatMiniprogram.TouchEvent} event */
  async buy(event) {
    if (this.data.busy) return;
    const productId = Number(event.currentTarget.dataset.id);
    this.setData({ busy: true });
    try {
      // The SDK makes one Idempotency-Key for this order and reuses it on
      // retries: a lost answer never places a second order.
      const order = await client.placeOrder({ items: [{ productId, quantity: 1 }] });
      wx.navigateTo({ url: `/pages/order/order?id=${order.id}` });
    } catch (err) {
      this.setData({ error: describeError(err) });
    } finally {
      this.setData({ busy: false });
    }
  },
});
