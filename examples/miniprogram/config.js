// Where the backend is. In WeChat DevTools tick "Does not verify valid domain names"
// to use a local one; a release build needs an https origin listed as a request domain.
export const BASE_URL = 'http://127.0.0.1:3000';

// Subscribe-message template ids as configured on the backend
// (WECHAT_SUBSCRIBE_TEMPLATE_ORDER_PAID / _SHIPPED); empty: the button is hidden.
/** @type {string[]} */
export const TEMPLATE_IDS = [];
