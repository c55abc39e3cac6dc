import type {
  Address,
  AddressList,
  AfterSales,
  AfterSalesList,
  DeletedAddress,
  FlashAdmission,
  FlashSale,
  FlashTicket,
  LoginResult,
  NewAddress,
  NewAfterSales,
  NewOrder,
  Order,
  OrderDetail,
  OrderAddress,
  OrderPage,
  PaymentParams,
  Product,
  ProfileUpdate,
  ProductPage,
  ReturnShipment,
  SubscriptionList,
  User,
} from './api.js';
import { ApiError, Codes } from './errors.js';
import { pollTicket, type PollOptions } from './flash.js';
import { newIdempotencyKey } from './idempotency.js';
import { Session, type LoginOptions } from './session.js';
import { Transport, type Call, type RetryPolicy } from './transport.js';
import {
  wxCall,
  type Wx,
  type WxChosenAddress,
  type WxPaymentParams,
  type WxSubscribeResult,
} from './wx.js';

export interface ClientOptions {
  /** The backend's origin, `https://api.example.com` (the SDK adds /api/v1). */
  baseUrl: string;
  /** The mini-program's `wx` (default: the global one). */
  wx?: Wx;
  /** Storage key of the token pair (default `wxmp.tokens`). */
  storageKey?: string;
  /** Shown in GET /auth/sessions. */
  device?: string;
  /** wx.request timeout (default 10 s). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /**
   * Runs when there is no session: none yet, or the server ended it (40102:
   * logged out elsewhere, refresh-token reuse). The stored pair is already
   * gone. Default: sign in again with wx.login (silent in a mini-program).
   * If a pair is stored when it returns, the request is sent once more;
   * otherwise it fails with the 40102 ApiError.
   */
  onSessionEnded?: (client: Client) => unknown;
}

export interface RequestOptions {
  query?: Call['query'];
  body?: unknown;
  idempotencyKey?: string;
  /** Send the access token, refreshing or signing in as needed (default true). */
  auth?: boolean;
}

export interface SubscribeResult {
  /** The template ids the user accepted (others were rejected, banned or filtered). */
  accepted: string[];
  /** The backend's record of them; null when nothing was accepted. */
  subscriptions: SubscriptionList | null;
}

const API_PREFIX = '/api/v1';

// The runtime's global `wx`; read with typeof, since older base libraries have no globalThis.
declare const wx: Wx | undefined;

/** An expired or refused refresh: the session is over, as after a 40102. */
const refreshLost = (err: unknown) =>
  err instanceof ApiError && (err.status === 401 || err.status === 409);

/** wx.chooseAddress's fields under the backend's names. */
export function addressOf(picked: WxChosenAddress): NewAddress {
  return {
    name: picked.userName,
    // WeChat may show a number spaced out; the backend takes digits, +86 and hyphens.
    phone: picked.telNumber.replace(/\s+/g, ''),
    province: picked.provinceName,
    city: picked.cityName,
    district: picked.countyName,
    detail: picked.detailInfo,
    // Optional at the backend: a blank or malformed one is left out rather than refused.
    ...(picked.postalCode && /^\d{6}$/.test(picked.postalCode)
      ? { postalCode: picked.postalCode }
      : {}),
  };
}

export class Client {
  private readonly transport: Transport;
  /** The backend's origin without /api/v1: the staff console's routes live there. */
  private readonly origin: Transport;
  private readonly session: Session;
  private readonly wx: Wx;

  constructor(options: ClientOptions) {
    const runtime = options.wx ?? (typeof wx === 'undefined' ? undefined : wx);
    if (!runtime) throw new Error('no wx: pass options.wx outside a mini-program');
    this.wx = runtime;
    const baseUrl = options.baseUrl.replace(/\/+$/, '');
    const retry = { retries: 2, baseDelayMs: 300, maxDelayMs: 5000, ...options.retry };
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.transport = new Transport(runtime, baseUrl + API_PREFIX, timeoutMs, retry);
    this.origin = new Transport(runtime, baseUrl, timeoutMs, retry);
    const hook = options.onSessionEnded ?? ((client: Client) => client.login());
    this.session = new Session(
      runtime,
      this.transport,
      options.storageKey ?? 'wxmp.tokens',
      options.device,
      async () => hook(this),
    );
  }

  /**
   * Any backend route: the envelope's `data`, or an ApiError. Retried on a
   * lost answer, a 429 or a 5xx only when it cannot act twice (a GET, or
   * with an idempotencyKey).
   */
  request<T>(method: Call['method'], path: string, options: RequestOptions = {}): Promise<T> {
    const { auth = true, ...rest } = options;
    const call: Call = { method, path, ...rest };
    return this.transport.withRetries(call, () =>
      auth ? this.authorized(call) : this.transport.once(call),
    ) as Promise<T>;
  }

  /** One attempt with the stored access token, refreshed (40101) or re-signed-in (40102) once. */
  private async authorized(call: Call, transport = this.transport): Promise<unknown> {
    let refreshed = false;
    let relogged = false;
    for (;;) {
      const token = this.session.tokens()?.accessToken;
      if (!token) {
        if (relogged) throw new ApiError(401, { code: Codes.SESSION_ENDED, message: 'signed out' });
        relogged = true;
        await this.session.ended(undefined);
        continue;
      }
      try {
        return await transport.once(call, token);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        if (err.code === Codes.TOKEN_EXPIRED && !refreshed) {
          refreshed = true;
          try {
            await this.session.refresh(token);
          } catch (refreshErr) {
            if (!refreshLost(refreshErr) || relogged) throw refreshErr;
            relogged = true;
            await this.session.ended(token);
          }
          continue;
        }
        if (err.code === Codes.SESSION_ENDED && !relogged) {
          relogged = true;
          await this.session.ended(token);
          if (this.session.tokens()) continue;
        }
        throw err;
      }
    }
  }

  /** Signs in: wx.login, POST /auth/login, the pair kept in storage. */
  login(options?: LoginOptions): Promise<LoginResult> {
    return this.session.login(options);
  }

  /** Whether a token pair is stored (it may still be refused). */
  get signedIn(): boolean {
    return this.session.tokens() !== undefined;
  }

  /** Ends this session at the backend and forgets it here (even if the backend cannot be told). */
  async logout(): Promise<void> {
    const token = this.session.tokens()?.accessToken;
    this.session.clear();
    if (!token) return;
    await this.transport
      .once({ method: 'POST', path: '/auth/logout' }, token)
      .catch(() => undefined);
  }

  /**
   * Signs a browser in to the staff console (docs/console.md): the user
   * scanned the console's mini-program code, whose `scene` is `ticket`
   * (pages/console-login of the example reads it). Staff only (else ApiError
   * 403/40300); an expired or already used ticket is ApiError 409/40900.
   * Sent once, never retried: a repeat could only answer 409.
   */
  async approveConsoleLogin(ticket: string): Promise<void> {
    await this.authorized(
      { method: 'POST', path: `/console/login-tickets/${encodeURIComponent(ticket)}/approve` },
      this.origin,
    );
  }

  me(): Promise<User> {
    return this.request('GET', '/users/me');
  }

  /**
   * Sets the nickname, the avatar URL, or both (what is left out stays):
   * PUT /users/me. The avatar is an https URL: upload the file
   * wx.chooseAvatar gives to your storage first. A risky nickname is an
   * ApiError 422/42201.
   */
  updateMe(update: ProfileUpdate): Promise<User> {
    return this.request('PUT', '/users/me', { body: update });
  }

  products(page: { cursor?: string; limit?: number } = {}): Promise<ProductPage> {
    return this.request('GET', '/products', { query: page, auth: false });
  }

  product(id: number): Promise<Product> {
    return this.request('GET', `/products/${id}`, { auth: false });
  }

  /**
   * Places an order. The Idempotency-Key is made here unless given, and the
   * same key goes with every retry, so a lost answer never makes a second
   * order; pass your own to keep it across a page reload.
   */
  placeOrder(order: NewOrder, idempotencyKey: string = newIdempotencyKey()): Promise<Order> {
    return this.request('POST', '/orders', { body: order, idempotencyKey });
  }

  order(id: number): Promise<OrderDetail> {
    return this.request('GET', `/orders/${id}`);
  }

  orders(page: { cursor?: string; limit?: number } = {}): Promise<OrderPage> {
    return this.request('GET', '/orders', { query: page });
  }

  cancelOrder(id: number): Promise<Order> {
    return this.request('POST', `/orders/${id}/cancel`);
  }

  /**
   * Sets the delivery address of an order that has not shipped yet:
   * `{ addressId }` from the book, or the address fields. An order of
   * express goods needs one before `pay` (else ApiError 40920).
   */
  setOrderAddress(orderId: number, address: OrderAddress): Promise<Order> {
    return this.request('PUT', `/orders/${orderId}/address`, { body: address });
  }

  /** The buyer confirms a shipped order arrived: it is `completed`. */
  confirmReceipt(orderId: number): Promise<Order> {
    return this.request('POST', `/orders/${orderId}/confirm-receipt`);
  }

  /**
   * Asks for a refund or a return of an order (paid, shipped, or completed
   * within the after-sales period). One request may be open per order (else
   * ApiError 40921); the Idempotency-Key is made here unless given, and goes
   * with every retry.
   */
  requestAfterSales(
    orderId: number,
    request: NewAfterSales,
    idempotencyKey: string = newIdempotencyKey(),
  ): Promise<AfterSales> {
    return this.request('POST', `/orders/${orderId}/after-sales`, {
      body: request,
      idempotencyKey,
    });
  }

  /** The order's after-sales requests, newest first. */
  afterSales(orderId: number): Promise<AfterSalesList> {
    return this.request('GET', `/orders/${orderId}/after-sales`);
  }

  /** Withdraws a request staff have not decided yet. */
  cancelAfterSales(id: number): Promise<AfterSales> {
    return this.request('POST', `/after-sales/${id}/cancel`);
  }

  /** The goods of an approved return were sent back: the carrier and its tracking number. */
  sendReturnShipment(id: number, shipment: ReturnShipment): Promise<AfterSales> {
    return this.request('POST', `/after-sales/${id}/return-shipment`, { body: shipment });
  }

  /** The user's address book, default first. */
  addresses(): Promise<AddressList> {
    return this.request('GET', '/users/me/addresses');
  }

  addAddress(address: NewAddress): Promise<Address> {
    return this.request('POST', '/users/me/addresses', { body: address });
  }

  updateAddress(id: number, address: NewAddress): Promise<Address> {
    return this.request('PUT', `/users/me/addresses/${id}`, { body: address });
  }

  deleteAddress(id: number): Promise<DeletedAddress> {
    return this.request('DELETE', `/users/me/addresses/${id}`);
  }

  /**
   * Lets the user pick an address in WeChat (wx.chooseAddress; call it from
   * a tap; a cancel rejects with WxCallError, `cancelled: true`) and saves it
   * to their book. `isDefault: true` makes it the default.
   */
  async chooseAddress(options: { isDefault?: boolean } = {}): Promise<Address> {
    const picked = await wxCall<WxChosenAddress>('chooseAddress', (cb) =>
      this.wx.chooseAddress(cb),
    );
    return this.addAddress({ ...addressOf(picked), ...options });
  }

  /**
   * Pays a pending order: the JSAPI parameters from the backend, the WeChat
   * Pay sheet (wx.requestPayment; a cancel rejects with WxCallError,
   * `cancelled: true`), then the backend's confirmation, which returns the
   * order (`paid` once WeChat Pay says so; the notification also gets there).
   */
  async pay(orderId: number): Promise<Order> {
    const params = await this.request<PaymentParams>('POST', `/orders/${orderId}/payment`);
    const sheet: WxPaymentParams = {
      timeStamp: params.timeStamp,
      nonceStr: params.nonceStr,
      package: params.package,
      signType: params.signType,
      paySign: params.paySign,
    };
    await wxCall<void>('requestPayment', (cb) => this.wx.requestPayment({ ...sheet, ...cb }));
    return this.request('POST', `/orders/${orderId}/payment/confirm`);
  }

  /**
   * Asks the user for subscribe messages (wx.requestSubscribeMessage; call it
   * from a tap) and tells the backend which templates were accepted: each
   * acceptance allows one message.
   */
  async subscribe(templateIds: string[]): Promise<SubscribeResult> {
    const answer = await wxCall<WxSubscribeResult>('requestSubscribeMessage', (cb) =>
      this.wx.requestSubscribeMessage({ tmplIds: templateIds, ...cb }),
    );
    const accepted = templateIds.filter((id) => answer[id] === 'accept');
    if (accepted.length === 0) return { accepted, subscriptions: null };
    const subscriptions = await this.request<SubscriptionList>('POST', '/users/me/subscriptions', {
      body: { accepted },
    });
    return { accepted, subscriptions };
  }

  flashSale(id: number): Promise<FlashSale> {
    return this.request('GET', `/flash-sales/${id}`, { auth: false });
  }

  ticket(ticket: string): Promise<FlashTicket> {
    return this.request('GET', `/flash-sales/tickets/${encodeURIComponent(ticket)}`);
  }

  /**
   * Buys in a flash sale: admission (202, a ticket; 409 40910/40911/40912
   * as ApiError), then the ticket polled until its order is placed, which
   * is returned (pending, at the sale's price: pay it with pay()).
   */
  async buyFlashSale(
    saleId: number,
    quantity = 1,
    options: PollOptions & { idempotencyKey?: string } = {},
  ): Promise<Order> {
    const { idempotencyKey = newIdempotencyKey(), ...poll } = options;
    const admission = await this.request<FlashAdmission>('POST', `/flash-sales/${saleId}/orders`, {
      body: { quantity },
      idempotencyKey,
    });
    const orderId = await pollTicket(() => this.ticket(admission.ticket), poll);
    return this.order(orderId);
  }
}

export const createClient = (options: ClientOptions) => new Client(options);
