import type {
  Wx,
  WxChosenAddress,
  WxPaymentParams,
  WxRequestOptions,
} from '../../sdk/src/index.js';

/** One exchange the shim made, as the server saw it. */
export interface Exchange {
  method: string;
  /** The path under the origin, query included: `/api/v1/orders?limit=5`. */
  path: string;
  status: number;
}

export interface WxShimOptions {
  /** A login code for each wx.login (from the fake WeChat, or any text for the sandbox one). */
  loginCode: () => string;
  /** What wx.requestPayment does with the sheet's parameters; rejects like a cancel by default. */
  pay?: (params: WxPaymentParams) => Promise<void>;
  /** The address the user picks in wx.chooseAddress; the dialog is cancelled without one. */
  address?: WxChosenAddress;
  /** The user's answer per template id in wx.requestSubscribeMessage (default: accept all). */
  subscribe?: (templateIds: string[]) => Record<string, string>;
  /**
   * Runs after the server has answered and before the SDK sees it: return
   * 'drop' to lose the answer (the SDK gets a timeout), or hold it by
   * returning a promise.
   */
  deliver?: (exchange: Exchange) => 'drop' | void | Promise<'drop' | void>;
  /** Storage shared with another shim (two clients of one mini-program); a new one by default. */
  storage?: Map<string, string>;
}

export interface WxShim extends Wx {
  /** Every exchange that reached the server, in the order they were answered. */
  exchanges: Exchange[];
  storage: Map<string, string>;
  /** The sheets wx.requestPayment was opened with. */
  payments: WxPaymentParams[];
}

/**
 * The `wx` of the mini-program runtime over Node's fetch, for driving the
 * SDK against a real backend in tests: wx.request's callbacks and its
 * answer shape (`statusCode`, `data` parsed as JSON, `header`), storage that
 * keeps copies like the real one, and login, payment and subscribe dialogs
 * played by the test.
 */
export function wxOverFetch(options: WxShimOptions): WxShim {
  const storage = options.storage ?? new Map<string, string>();
  const exchanges: Exchange[] = [];
  const payments: WxPaymentParams[] = [];

  async function request(o: WxRequestOptions): Promise<void> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(o.url, {
        method: o.method,
        headers: o.header,
        body: o.data,
        signal: AbortSignal.timeout(o.timeout ?? 60_000),
      });
      text = await res.text();
    } catch (err) {
      o.fail?.({ errMsg: `request:fail ${(err as Error).message}` });
      return;
    }
    const url = new URL(o.url);
    const exchange = { method: o.method, path: url.pathname + url.search, status: res.status };
    exchanges.push(exchange);
    if ((await options.deliver?.(exchange)) === 'drop') {
      o.fail?.({ errMsg: 'request:fail timeout' });
      return;
    }
    let data: unknown = text;
    if (o.dataType !== 'other') {
      try {
        data = JSON.parse(text) as unknown;
      } catch {
        // wx.request hands over the text when it is not JSON.
      }
    }
    o.success?.({ statusCode: res.status, data, header: Object.fromEntries(res.headers) });
  }

  return {
    exchanges,
    storage,
    payments,
    request(o) {
      void request(o);
      return undefined;
    },
    login({ success }) {
      queueMicrotask(() => success?.({ code: options.loginCode() }));
    },
    requestPayment({ success, fail, ...params }) {
      payments.push(params);
      const pay = options.pay ?? (() => Promise.reject(new Error('requestPayment:fail cancel')));
      pay(params).then(
        () => success?.(),
        (err: Error) => fail?.({ errMsg: err.message }),
      );
    },
    requestSubscribeMessage({ tmplIds, success }) {
      const answers =
        options.subscribe?.(tmplIds) ?? Object.fromEntries(tmplIds.map((id) => [id, 'accept']));
      queueMicrotask(() => success?.({ errMsg: 'requestSubscribeMessage:ok', ...answers }));
    },
    chooseAddress({ success, fail }) {
      const picked = options.address;
      queueMicrotask(() =>
        picked
          ? success?.({ errMsg: 'chooseAddress:ok', ...picked })
          : fail?.({ errMsg: 'chooseAddress:fail cancel' }),
      );
    },
    getStorageSync(key) {
      const value = storage.get(key);
      // The real one answers '' for a missing key.
      return value === undefined ? '' : (JSON.parse(value) as unknown);
    },
    setStorageSync(key, value) {
      storage.set(key, JSON.stringify(value));
    },
    removeStorageSync(key) {
      storage.delete(key);
    },
  };
}
