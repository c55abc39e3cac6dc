import { TEMPLATE_IDS } from '../../config.js';
import { describeError, yuan } from '../../format.js';
import { WxCallError } from '../../lib/wx-mp-sdk.js';

/** @type {{ client: import('../../lib/wx-mp-sdk.js').Client }} */
const { client } = getApp().globalData;

// One order: its state, the pay button (WeChat Pay through the SDK) and the
// subscribe button (so the backend may message the user when it ships).
Page({
  data: {
    /** @type {import('../../lib/wx-mp-sdk.js').Order | null} */
    order: null,
    /** @type {import('../../lib/wx-mp-sdk.js').OrderDetail['shipments']} */
    shipments: [],
    /** The order's latest after-sales request. @type {import('../../lib/wx-mp-sdk.js').AfterSales | null} */
    afterSales: null,
    total: '',
    error: '',
    paying: false,
    canSubscribe: TEMPLATE_IDS.length > 0,
  },
  /** Set from the page's query on load. */
  orderId: 0,

  onLoad(query) {
    this.orderId = Number(query.id);
    this.reload();
  },

  async reload() {
    try {
      const [order, requests] = await Promise.all([
        client.order(this.orderId),
        client.afterSales(this.orderId),
      ]);
      // The packages come with this read only; the actions below answer the order alone.
      this.setData({ shipments: order.shipments, afterSales: requests.items[0] ?? null });
      this.show(order);
    } catch (err) {
      this.setData({ error: describeError(err) });
    }
  },

  /** @param {import('../../lib/wx-mp-sdk.js').Order} order */
  show(order) {
    this.setData({ order, total: yuan(order.totalCents), error: '' });
  },

  // The address step: express goods are not paid for before the order has
  // an address (40920). wx.chooseAddress through the SDK saves the pick to
  // the user's book; the order then keeps its own copy.
  async chooseAddress() {
    try {
      const address = await client.chooseAddress();
      this.show(await client.setOrderAddress(this.orderId, { addressId: address.id }));
    } catch (err) {
      // Closing the address picker is the user's choice, not an error.
      if (!(err instanceof WxCallError && err.cancelled))
        this.setData({ error: describeError(err) });
    }
  },

  async confirmReceipt() {
    try {
      this.show(await client.confirmReceipt(this.orderId));
    } catch (err) {
      this.setData({ error: describeError(err) });
    }
  },

  async pay() {
    this.setData({ paying: true });
    try {
      // POST /orders/:id/payment → wx.requestPayment → POST …/payment/confirm.
      this.show(await client.pay(this.orderId));
    } catch (err) {
      // Closing the payment sheet is the user's choice, not an error.
      if (err instanceof WxCallError && err.cancelled) await this.reload();
      else this.setData({ error: describeError(err) });
    } finally {
      this.setData({ paying: false });
    }
  },

  async subscribe() {
    try {
      const { accepted } = await client.subscribe(TEMPLATE_IDS);
      wx.showToast({
        title: accepted.length > 0 ? 'We will notify you' : 'No notifications',
        icon: 'none',
      });
    } catch (err) {
      this.setData({ error: describeError(err) });
    }
  },

  // After-sales: a refund of what is left to refund (the backend's default
  // amount), with the buyer's reason; staff decide in the console.
  async askRefund() {
    const { confirm, content } = await wx.showModal({
      title: 'Ask for a refund',
      editable: true,
      placeholderText: 'Why? (up to 80 characters)',
    });
    const reason = (content ?? '').trim();
    if (!confirm || reason === '') return;
    try {
      const request = await client.requestAfterSales(this.orderId, { type: 'refund', reason });
      this.setData({ afterSales: request, error: '' });
    } catch (err) {
      this.setData({ error: describeError(err) });
    }
  },

  async withdrawRefund() {
    const open = this.data.afterSales;
    if (!open) return;
    try {
      const request = await client.cancelAfterSales(open.id);
      this.setData({ afterSales: request, error: '' });
    } catch (err) {
      this.setData({ error: describeError(err) });
    }
  },

  async cancel() {
    try {
      this.show(await client.cancelOrder(this.orderId));
    } catch (err) {
      this.setData({ error: describeError(err) });
    }
  },
});
