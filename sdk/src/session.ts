import type { LoginResult, TokenPair } from './api.js';
import { ApiError, Codes } from './errors.js';
import { sleep, type Call, type Transport } from './transport.js';
import { wxCall, type Wx } from './wx.js';

/** What is kept in storage: the pair of the current session. */
export interface StoredTokens {
  accessToken: string;
  refreshToken: string;
}

export interface LoginOptions {
  /** From wx.getUserProfile / getUserInfo: fills the nickname and avatar. */
  encryptedData?: string;
  iv?: string;
}

/** How long a refresh refused with 409 watches storage for the other client's pair. */
const RACE_WAIT_MS = 3000;
const RACE_POLL_MS = 50;

/**
 * The session of the signed-in user: its token pair in wx storage (shared by
 * every page, and by every client made over the same storage), its login,
 * and its refresh, of which there is one at a time however many requests
 * find the access token expired.
 */
export class Session {
  private refreshing: Promise<void> | undefined;
  private loggingIn: Promise<LoginResult> | undefined;
  private ending: Promise<void> | undefined;

  constructor(
    private readonly wx: Wx,
    private readonly transport: Transport,
    private readonly storageKey: string,
    private readonly device: string | undefined,
    private readonly onSessionEnded: () => Promise<unknown>,
  ) {}

  tokens(): StoredTokens | undefined {
    const value = this.wx.getStorageSync(this.storageKey) as Partial<StoredTokens> | '' | null;
    return value && typeof value.accessToken === 'string' && typeof value.refreshToken === 'string'
      ? { accessToken: value.accessToken, refreshToken: value.refreshToken }
      : undefined;
  }

  private store(pair: TokenPair): void {
    const tokens: StoredTokens = { accessToken: pair.accessToken, refreshToken: pair.refreshToken };
    this.wx.setStorageSync(this.storageKey, tokens);
  }

  clear(): void {
    this.wx.removeStorageSync(this.storageKey);
  }

  /** wx.login, then POST /auth/login; one at a time (a second call joins the first). */
  login(options: LoginOptions = {}): Promise<LoginResult> {
    this.loggingIn ??= this.doLogin(options).finally(() => (this.loggingIn = undefined));
    return this.loggingIn;
  }

  private async doLogin(options: LoginOptions): Promise<LoginResult> {
    const { code } = await wxCall<{ code: string }>('login', (cb) => this.wx.login(cb));
    const body = { code, ...options, ...(this.device ? { device: this.device } : {}) };
    // Not retried: a WeChat login code is good for one use.
    const result = (await this.transport.once({
      method: 'POST',
      path: '/auth/login',
      body,
    })) as LoginResult;
    this.store(result);
    return result;
  }

  /**
   * A new pair after `expired` was refused with 40101. Requests that find
   * their token expired together share one refresh; one whose token was
   * already replaced (by a refresh that ended meanwhile, here or in another
   * client on the same storage) just takes the stored pair.
   */
  refresh(expired: string): Promise<void> {
    if (this.tokens()?.accessToken !== expired) return Promise.resolve();
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const spent = this.tokens();
    if (!spent) throw new ApiError(401, { code: Codes.SESSION_ENDED, message: 'no session' });
    try {
      // Retried after a lost answer or a 503: a repeat within 10 s of the
      // rotation gets the same new pair (with the default policy the last
      // attempt starts well inside that; later it would end the session).
      const call: Call = {
        method: 'POST',
        path: '/auth/refresh',
        body: { refreshToken: spent.refreshToken },
        repeatable: true,
      };
      const pair = (await this.transport.withRetries(call, () =>
        this.transport.once(call),
      )) as TokenPair;
      this.store(pair);
    } catch (err) {
      // 409: a replica with another JWT_SECRET (mid-rotation) rotated this
      // token a moment ago, for another client on the same storage; its pair
      // is (or is about to be) in storage.
      if (err instanceof ApiError && err.status === 409) {
        for (let waited = 0; waited < RACE_WAIT_MS; waited += RACE_POLL_MS) {
          if (this.tokens()?.refreshToken !== spent.refreshToken) return;
          await sleep(RACE_POLL_MS);
        }
      }
      throw err;
    }
  }

  /**
   * The server ended the session of `stale` (40102), or there is none
   * (`stale` undefined): the stored pair is dropped and the re-login hook
   * runs, once for all the requests that found out together. A request that
   * learns it late, after a new pair was stored, just takes that pair.
   */
  ended(stale: string | undefined): Promise<void> {
    const current = this.tokens()?.accessToken;
    if (current !== undefined && current !== stale) return Promise.resolve();
    this.ending ??= (async () => {
      this.clear();
      await this.onSessionEnded();
    })().finally(() => (this.ending = undefined));
    return this.ending;
  }
}
