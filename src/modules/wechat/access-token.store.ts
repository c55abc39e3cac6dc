import { setTimeout as sleep } from 'node:timers/promises';
import { AppError, DeadlineExceededError } from '../../common/errors/index.js';
import { withoutBudget } from '../../common/http/index.js';
import {
  defineScript,
  RedisLock,
  type RedisScript,
  type RedisClient,
} from '../../infra/redis/index.js';

export interface FetchedToken {
  token: string;
  expiresInSec: number;
}

interface StoredToken {
  token: string;
  /** After this instant a caller refreshes, before the token expires. */
  refreshAt: number;
  expiresAt: number;
}

// Refresh five minutes early (or at half-life for short-lived answers), so
// a request never holds a token that dies in flight.
const REFRESH_EARLY_MS = 300_000;
// A token this close to its expiry is not handed out even while refreshing.
const USABLE_MARGIN_MS = 10_000;

/**
 * A Redis failure is a dependency outage (503), never an unexpected 500. The
 * request's spent budget stays what it is (it says nothing about Redis).
 */
function unavailable(err?: unknown): never {
  if (err instanceof DeadlineExceededError) throw err;
  throw new AppError('UNAVAILABLE', 'access token store unavailable');
}

function stored(fetched: FetchedToken, now: number): StoredToken {
  const ttl = fetched.expiresInSec * 1000;
  return {
    token: fetched.token,
    refreshAt: now + Math.max(ttl - REFRESH_EARLY_MS, ttl / 2),
    expiresAt: now + ttl,
  };
}

/**
 * Where the server access_token lives. `get` returns a usable token, making
 * at most one upstream call however many callers (and replicas) ask at once;
 * `invalidate` forgets a token WeChat refused, unless it was already replaced.
 */
export abstract class AccessTokenStore {
  abstract get(fetch: () => Promise<FetchedToken>): Promise<string>;
  abstract invalidate(token: string): Promise<void>;
}

/** Single replica (embedded mode): the token lives in this process. */
export class MemoryAccessTokenStore extends AccessTokenStore {
  private value: StoredToken | undefined;
  private inflight: Promise<string> | undefined;

  get(fetch: () => Promise<FetchedToken>): Promise<string> {
    const now = Date.now();
    if (this.value && now < this.value.refreshAt) return Promise.resolve(this.value.token);
    this.inflight ??= fetch()
      .then((fetched) => {
        this.value = stored(fetched, Date.now());
        return fetched.token;
      })
      .finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  invalidate(token: string): Promise<void> {
    if (this.value?.token === token) this.value = undefined;
    return Promise.resolve();
  }
}

const INVALIDATE = `
local raw = redis.call('GET', KEYS[1])
if raw and cjson.decode(raw).token == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface RedisAccessTokenStoreOptions {
  /** Part of the key: two mini-programs on one Redis keep their own tokens. */
  appId: string;
  /** How long the lock holder may take to fetch (covers the HTTP timeout). */
  lockTtlMs: number;
  /** How long a waiter waits for another replica's refresh before giving up. */
  waitMs: number;
  pollMs?: number;
}

/**
 * Cluster-wide store: the token and its expiry in Redis. When it needs a
 * refresh, one replica takes a Redis lock and calls WeChat while the others
 * poll for the new value (N replicas cold-starting make one upstream call).
 * Within a replica, concurrent callers share one refresh.
 */
export class RedisAccessTokenStore extends AccessTokenStore {
  private readonly key: string;
  private readonly lockKey: string;
  private inflight: Promise<string> | undefined;
  private readonly lock: RedisLock;
  private readonly invalidateIfCurrent: RedisScript<number>;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: RedisAccessTokenStoreOptions,
  ) {
    super();
    this.lock = new RedisLock(redis);
    this.key = `wx:access_token:${options.appId}`;
    this.lockKey = `${this.key}:lock`;
    this.invalidateIfCurrent = defineScript(redis, 'wxInvalidateToken', INVALIDATE, 1);
  }

  async get(fetch: () => Promise<FetchedToken>): Promise<string> {
    const current = await this.read().catch(unavailable);
    if (current && Date.now() < current.refreshAt) return current.token;
    // Shared by every caller waiting for the token: not bound to the first one's budget.
    this.inflight ??= withoutBudget(() => this.refresh(fetch, current))
      .catch((err: unknown) => (err instanceof AppError ? Promise.reject(err) : unavailable(err)))
      .finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  async invalidate(token: string): Promise<void> {
    await this.invalidateIfCurrent([this.key], [token]).catch(unavailable);
  }

  private async refresh(
    fetch: () => Promise<FetchedToken>,
    previous: StoredToken | undefined,
  ): Promise<string> {
    const deadline = Date.now() + this.options.waitMs;
    const pollMs = this.options.pollMs ?? 50;
    for (;;) {
      const owner = await this.lock.tryAcquire(this.lockKey, this.options.lockTtlMs);
      if (owner !== null) {
        try {
          // Another replica may have refreshed between our read and the lock.
          const latest = await this.read();
          if (latest && Date.now() < latest.refreshAt) return latest.token;
          const value = stored(await fetch(), Date.now());
          await this.redis.set(
            this.key,
            JSON.stringify(value),
            'PX',
            Math.max(1, value.expiresAt - Date.now()),
          );
          return value.token;
        } finally {
          await this.lock.unlock(this.lockKey, owner);
        }
      }
      // Someone else is refreshing: an old token that is still good serves
      // meanwhile; without one, wait for theirs.
      if (previous && Date.now() < previous.expiresAt - USABLE_MARGIN_MS) return previous.token;
      await sleep(pollMs);
      const latest = await this.read();
      if (latest && Date.now() < latest.refreshAt) return latest.token;
      if (Date.now() > deadline) {
        throw new AppError('WECHAT_UPSTREAM', 'WeChat access token unavailable');
      }
    }
  }

  private async read(): Promise<StoredToken | undefined> {
    const raw = await this.redis.get(this.key);
    return raw ? (JSON.parse(raw) as StoredToken) : undefined;
  }
}
