import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger, type OnModuleInit } from '@nestjs/common';
import type { LRUCache } from 'lru-cache';
import type { Registry } from 'prom-client';
import type { MessageBus } from '../bus/index.js';
import { withoutBudget } from '../../common/http/index.js';
import { CacheStats, registerCacheMetrics } from './cache-stats.js';
import type { L2Driver } from './l2-driver.js';
import { boundedLru } from './lru.js';

export interface TwoTierCacheOptions {
  l2: L2Driver;
  bus: MessageBus;
  registry?: Registry;
  l1MaxEntries: number;
  l1MaxBytes: number;
  /** Upper bound on how long L1 trusts itself without asking L2: the staleness bound if a bus message is lost. */
  l1MaxTtlMs: number;
  /** Every TTL is shortened by a random share up to this ratio, so keys written together do not expire together. */
  jitter?: number;
  /** After an L2 failure, L2 is skipped this long (no per-request timeouts while Redis is away). */
  l2RetryAfterMs?: number;
  /** After a loader failure, the stale value is served this long before the loader is tried again. */
  failureBackoffMs?: number;
  /** Poll interval while waiting for another replica's loader (lock option). */
  lockPollMs?: number;
}

export interface GetOrSetOptions {
  ttlMs: number;
  /** TTL of a cached "not found" (the loader returned null); 0 disables negative caching. */
  negativeTtlMs?: number;
  /** How long past its TTL a value may still be served stale (refresh in flight, loader or Redis failing). */
  graceMs?: number;
  /** With a stale value at hand, wait at most this long for the loader, then answer stale. */
  softTimeoutMs?: number;
  /** Tags to invalidate this entry with, e.g. every page of a list. */
  tags?: readonly string[];
  /** Cross-replica single-flight through a short Redis lock (for expensive loaders). */
  lock?: { ttlMs: number; waitMs?: number };
}

/** Returns the value, or null for "not found" (which is cached negatively). */
export type Loader<T> = () => Promise<T | null>;

interface Entry {
  value: unknown;
  freshUntil: number;
  graceUntil: number;
  localUntil: number;
  size: number;
  tags: readonly string[] | undefined;
}

interface Flight {
  promise: Promise<unknown>;
  /** Set when an invalidation arrives mid-load: the result must not be cached. */
  invalidated: boolean;
  tags: readonly string[] | undefined;
}

interface WireEntry {
  v: unknown;
  f: number;
  g: number;
  t?: readonly string[];
}

interface Invalidation {
  o: string;
  k?: string[];
  t?: string[];
}

/** What one event-loop turn invalidated, sent together once the turn ends. */
interface Gathered {
  keys: Set<string>;
  tags: Set<string>;
  sent: Promise<void>;
}

const CHANNEL = 'cache:invalidate';
const L2_FAILED = Symbol('L2_FAILED');
const MAX_PENDING = 10_000;

/**
 * Two-tier cache: a bounded in-process LRU (L1) in front of a shared store
 * (L2: Redis, or in process in the embedded mode). Written by hand rather than
 * on a library: see the README ("Two-tier cache") for the reasons.
 *
 * Values must be JSON data and are shared between callers: never mutate one.
 */
export class TwoTierCache implements OnModuleInit {
  readonly stats = new CacheStats();
  private readonly logger = new Logger('Cache');
  /** Tells this replica's own bus messages from the others'. */
  private readonly instanceId = randomUUID();
  private readonly l1: LRUCache<string, Entry>;
  private readonly tagIndex = new Map<string, Set<string>>();
  private readonly flights = new Map<string, Flight>();
  private readonly pendingKeys = new Set<string>();
  private readonly pendingTags = new Set<string>();
  private readonly l2: L2Driver;
  private readonly bus: MessageBus;
  private readonly l1MaxTtlMs: number;
  private readonly jitter: number;
  private readonly l2RetryAfterMs: number;
  private readonly failureBackoffMs: number;
  private readonly lockPollMs: number;
  private l2DownUntil = 0;
  private flushing = false;
  /** This turn's invalidations, until they are sent. */
  private turn: Gathered | undefined;

  constructor(options: TwoTierCacheOptions) {
    this.l2 = options.l2;
    this.bus = options.bus;
    this.l1MaxTtlMs = options.l1MaxTtlMs;
    this.jitter = options.jitter ?? 0.1;
    this.l2RetryAfterMs = options.l2RetryAfterMs ?? 1000;
    this.failureBackoffMs = options.failureBackoffMs ?? 5000;
    this.lockPollMs = options.lockPollMs ?? 25;
    this.l1 = boundedLru<Entry>(options.l1MaxEntries, options.l1MaxBytes, (key, entry) =>
      this.unindex(key, entry),
    );
    if (options.registry) registerCacheMetrics(options.registry, this.stats, () => this.l1.size);
  }

  onModuleInit(): void {
    this.bus.subscribe(CHANNEL, (message) => this.onInvalidation(message));
  }

  /**
   * The value under `key`, from L1, else L2, else the loader (once per key
   * and replica however many callers miss together).
   */
  getOrSet<T>(key: string, loader: Loader<T>, options: GetOrSetOptions): Promise<T | null> {
    const entry = this.l1.get(key);
    if (entry !== undefined) {
      const now = Date.now();
      if (now < entry.freshUntil && now < entry.localUntil) {
        this.stats.l1Hits++;
        return Promise.resolve(entry.value as T | null);
      }
    }
    return this.slowPath(key, loader, options, entry) as Promise<T | null>;
  }

  /** Writes a value to both tiers and drops it from every other replica's L1. */
  async set<T>(key: string, value: T | null, options: GetOrSetOptions): Promise<void> {
    this.dropLocal([key]);
    await this.store(key, value, options);
    await this.publish({ o: this.instanceId, k: [key] });
  }

  /** Removes keys from both tiers on every replica. */
  delete(...keys: string[]): Promise<void> {
    return this.invalidate(keys, []);
  }

  /** Removes every entry written with one of these tags, on every replica. */
  invalidateTags(...tags: string[]): Promise<void> {
    return this.invalidate([], tags);
  }

  /**
   * `delete(...keys)` and `invalidateTags(...tags)` at once (a write that
   * changes an item and its lists). This replica's L1 drops them at once;
   * L2 and the other replicas hear of them with the rest of this event-loop
   * turn's invalidations, in one L2 call and one bus message for all of
   * them, and the promise settles once those are sent.
   * Every order changes its products' stock: sent one by one, an order's
   * three Redis round trips were a sixth of its CPU (docs/benchmarks.md).
   */
  invalidate(keys: readonly string[], tags: readonly string[]): Promise<void> {
    this.dropLocal(keys);
    this.dropLocalTags(tags);
    const turn = (this.turn ??= this.gather());
    for (const key of keys) turn.keys.add(key);
    for (const tag of tags) turn.tags.add(tag);
    return turn.sent;
  }

  /** A new turn's gathering, sent once the turn's I/O callbacks have run. */
  private gather(): Gathered {
    const keys = new Set<string>();
    const tags = new Set<string>();
    const sent = new Promise<void>((resolve) =>
      setImmediate(() => {
        this.turn = undefined;
        resolve(this.sendInvalidation([...keys], [...tags]));
      }),
    );
    return { keys, tags, sent };
  }

  private async sendInvalidation(keys: string[], tags: string[]): Promise<void> {
    if ((await this.l2Call(() => this.l2.invalidate(keys, tags))) === undefined) {
      this.remember(this.pendingKeys, keys);
      this.remember(this.pendingTags, tags);
    }
    const message: Invalidation = { o: this.instanceId };
    if (keys.length > 0) message.k = keys;
    if (tags.length > 0) message.t = tags;
    await this.publish(message);
  }

  /**
   * Replays the invalidations that could not reach L2 while it was down, so
   * a value changed during an outage is not served from L2 once it is back.
   */
  async flushPending(): Promise<void> {
    if (this.flushing || (this.pendingKeys.size === 0 && this.pendingTags.size === 0)) return;
    this.flushing = true;
    const keys = [...this.pendingKeys];
    const tags = [...this.pendingTags];
    this.pendingKeys.clear();
    this.pendingTags.clear();
    try {
      await this.l2.invalidate(keys, tags);
      this.logger.log(`replayed ${keys.length} key and ${tags.length} tag invalidation(s) to L2`);
      await this.publish({ o: this.instanceId, k: keys, t: tags });
    } catch {
      this.remember(this.pendingKeys, keys);
      this.remember(this.pendingTags, tags);
    } finally {
      this.flushing = false;
    }
  }

  private async slowPath(
    key: string,
    loader: Loader<unknown>,
    options: GetOrSetOptions,
    entry: Entry | undefined,
  ): Promise<unknown> {
    const now = Date.now();
    const stale = entry !== undefined && now < entry.graceUntil ? entry : undefined;
    const running = this.flights.get(key);
    if (running) {
      if (!stale) return running.promise;
      // One caller refreshes; the others answer at once with what they have.
      if (now < stale.freshUntil) this.stats.l1Hits++;
      else this.stats.staleServed++;
      return stale.value;
    }
    const flight: Flight = { promise: Promise.resolve(), invalidated: false, tags: options.tags };
    // Callers join the flight: it must not carry the first caller's budget.
    flight.promise = withoutBudget(() => this.load(key, loader, options, stale, flight)).finally(
      () => {
        if (this.flights.get(key) === flight) this.flights.delete(key);
      },
    );
    this.flights.set(key, flight);
    if (!stale || options.softTimeoutMs === undefined) return flight.promise;
    return this.withSoftTimeout(flight.promise, stale, options.softTimeoutMs);
  }

  private async withSoftTimeout(
    promise: Promise<unknown>,
    stale: Entry,
    timeoutMs: number,
  ): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<typeof stale>((resolve) => {
      timer = setTimeout(() => resolve(stale), timeoutMs);
    });
    try {
      const winner = await Promise.race([promise, timedOut]);
      if (winner !== stale) return winner;
      this.stats.staleServed++;
      return stale.value;
    } finally {
      clearTimeout(timer);
    }
  }

  private async load(
    key: string,
    loader: Loader<unknown>,
    options: GetOrSetOptions,
    localStale: Entry | undefined,
    flight: Flight,
  ): Promise<unknown> {
    let stale = localStale;
    // An invalidation of this key gathered this turn has not reached L2 yet:
    // read before it is sent and this replica would keep the old value in L1.
    const pending = this.turn;
    if (pending && (pending.keys.has(key) || options.tags?.some((t) => pending.tags.has(t)))) {
      await pending.sent;
    }
    const fromL2 = await this.l2Read(key);
    let now = Date.now();
    if (fromL2 !== L2_FAILED && fromL2 !== undefined) {
      if (now < fromL2.freshUntil) {
        this.stats.l2Hits++;
        if (!flight.invalidated) this.l1Put(key, fromL2);
        return fromL2.value;
      }
      if (now < fromL2.graceUntil && (!stale || fromL2.freshUntil > stale.freshUntil))
        stale = fromL2;
    }
    if (fromL2 === L2_FAILED && stale && now < stale.freshUntil) {
      // L2 is away but the local copy is still within its TTL: keep it a while longer.
      this.stats.l1Hits++;
      if (!flight.invalidated) this.l1Put(key, { ...stale, localUntil: now + this.localTtl() });
      return stale.value;
    }

    let lockToken: string | undefined;
    if (options.lock && fromL2 !== L2_FAILED) {
      const outcome = await this.lockOrWait(key, options.lock);
      if (typeof outcome === 'string') lockToken = outcome;
      else if (outcome) {
        this.stats.l2Hits++;
        if (!flight.invalidated) this.l1Put(key, outcome);
        return outcome.value;
      }
    }

    try {
      this.stats.misses++;
      let value: unknown;
      try {
        value = (await loader()) ?? null;
      } catch (err) {
        this.stats.loaderErrors++;
        if (!stale) throw err;
        this.stats.staleServed++;
        now = Date.now();
        // Serve the stale value for a while instead of hammering a failing loader.
        if (!flight.invalidated) {
          this.l1Put(key, {
            ...stale,
            freshUntil: Math.min(now + this.failureBackoffMs, stale.graceUntil),
            localUntil: now + this.localTtl(),
          });
        }
        return stale.value;
      }
      if (!flight.invalidated) await this.store(key, value, options);
      return value;
    } finally {
      if (lockToken) void this.l2Call(() => this.l2.unlock(key, lockToken));
    }
  }

  /** The lock token when this replica should load, an entry another replica loaded, or undefined to load unlocked. */
  private async lockOrWait(
    key: string,
    lock: NonNullable<GetOrSetOptions['lock']>,
  ): Promise<string | Entry | undefined> {
    const token = randomUUID();
    // Holding the lock is not enough: another replica may have loaded and
    // released it since this one missed, so look at L2 once more first.
    const take = async (): Promise<boolean | Entry | undefined> => {
      const locked = await this.l2Call(() => this.l2.tryLock(key, token, lock.ttlMs));
      if (locked !== true) return locked;
      const entry = await this.l2Read(key);
      if (entry === L2_FAILED || !entry || Date.now() >= entry.freshUntil) return true;
      void this.l2Call(() => this.l2.unlock(key, token));
      return entry;
    };
    const first = await take();
    if (first === true) return token;
    if (first === undefined || typeof first === 'object') return first;
    const deadline = Date.now() + (lock.waitMs ?? lock.ttlMs);
    while (Date.now() < deadline) {
      await sleep(this.lockPollMs);
      const entry = await this.l2Read(key);
      if (entry === L2_FAILED) return undefined;
      if (entry && Date.now() < entry.freshUntil) return entry;
      // The holder may have died: its lock expires and we take over.
      const again = await take();
      if (again === true) return token;
      if (again === undefined || typeof again === 'object') return again;
    }
    return undefined;
  }

  private async store(key: string, value: unknown, options: GetOrSetOptions): Promise<void> {
    const negative = value === null;
    const ttl = negative ? (options.negativeTtlMs ?? Math.min(options.ttlMs, 5000)) : options.ttlMs;
    if (ttl <= 0) return;
    const now = Date.now();
    const freshUntil = now + this.jittered(ttl);
    const graceUntil = freshUntil + (negative ? 0 : (options.graceMs ?? 0));
    const tags = options.tags && options.tags.length > 0 ? options.tags : undefined;
    const wire: WireEntry = { v: value, f: freshUntil, g: graceUntil };
    if (tags) wire.t = tags;
    const raw = JSON.stringify(wire);
    this.l1Put(key, {
      value,
      freshUntil,
      graceUntil,
      localUntil: now + this.localTtl(),
      size: raw.length,
      tags,
    });
    await this.l2Call(() => this.l2.set(key, raw, graceUntil - now, tags ?? []));
  }

  private async l2Read(key: string): Promise<Entry | undefined | typeof L2_FAILED> {
    const raw = await this.l2Call(() => this.l2.get(key));
    if (raw === undefined) return L2_FAILED;
    if (raw === null) return undefined;
    try {
      const wire = JSON.parse(raw) as WireEntry;
      return {
        value: wire.v,
        freshUntil: wire.f,
        graceUntil: wire.g,
        localUntil: Date.now() + this.localTtl(),
        size: raw.length,
        tags: wire.t,
      };
    } catch {
      // Written by an incompatible version: a miss, the loader overwrites it.
      return undefined;
    }
  }

  /**
   * Runs an L2 operation; undefined when L2 is down (never throws), null
   * for an operation that succeeded with nothing to return.
   */
  private async l2Call<R>(op: () => Promise<R>): Promise<R | undefined> {
    if (this.l2DownUntil !== 0 && Date.now() < this.l2DownUntil) return undefined;
    try {
      const result = await op();
      if (this.l2DownUntil !== 0) {
        this.l2DownUntil = 0;
        this.logger.log('L2 is back');
      }
      if (this.pendingKeys.size > 0 || this.pendingTags.size > 0) void this.flushPending();
      return result ?? (null as R);
    } catch (err) {
      this.stats.l2Errors++;
      if (this.l2DownUntil === 0) {
        this.logger.warn(
          `L2 unavailable (${(err as Error).message}); serving from L1 and the loaders`,
        );
      }
      this.l2DownUntil = Date.now() + this.l2RetryAfterMs;
      return undefined;
    }
  }

  private async publish(message: Invalidation): Promise<void> {
    this.stats.invalidationsSent++;
    const sent = await this.bus.publish(CHANNEL, JSON.stringify(message));
    // Lost now, replayed when L2 is back; the L1 max TTL bounds the meantime.
    if (!sent) {
      this.remember(this.pendingKeys, message.k ?? []);
      this.remember(this.pendingTags, message.t ?? []);
    }
  }

  private onInvalidation(raw: string): void {
    let message: Invalidation;
    try {
      message = JSON.parse(raw) as Invalidation;
    } catch {
      return;
    }
    if (message.o === this.instanceId) return;
    this.stats.invalidationsReceived++;
    if (message.k) this.dropLocal(message.k);
    if (message.t) this.dropLocalTags(message.t);
  }

  private dropLocal(keys: readonly string[]): void {
    for (const key of keys) {
      this.l1.delete(key);
      const flight = this.flights.get(key);
      if (flight) {
        flight.invalidated = true;
        this.flights.delete(key);
      }
    }
  }

  private dropLocalTags(tags: readonly string[]): void {
    for (const tag of tags) {
      // Deleting from a Set while iterating it is safe: onRemove unindexes each key.
      for (const key of this.tagIndex.get(tag) ?? []) this.l1.delete(key);
    }
    for (const [key, flight] of this.flights) {
      if (flight.tags?.some((t) => tags.includes(t))) {
        flight.invalidated = true;
        this.flights.delete(key);
      }
    }
  }

  private l1Put(key: string, entry: Entry): void {
    this.l1.set(key, entry);
    if (!entry.tags || this.l1.peek(key) !== entry) return;
    for (const tag of entry.tags) {
      let keys = this.tagIndex.get(tag);
      if (!keys) this.tagIndex.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  private unindex(key: string, entry: Entry): void {
    if (!entry.tags) return;
    for (const tag of entry.tags) {
      const keys = this.tagIndex.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.tagIndex.delete(tag);
    }
  }

  private remember(target: Set<string>, items: readonly string[]): void {
    for (const item of items) {
      if (target.size >= MAX_PENDING) {
        this.logger.warn('too many invalidations pending while L2 is down; some were dropped');
        return;
      }
      target.add(item);
    }
  }

  private jittered(ms: number): number {
    return ms * (1 - this.jitter * Math.random());
  }

  private localTtl(): number {
    return this.jittered(this.l1MaxTtlMs);
  }
}
