import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { AppError } from '../../common/errors/index.js';
import { withoutBudget } from '../../common/http/index.js';
import { MessageBus } from '../../infra/bus/index.js';
import {
  REDIS,
  defineScript,
  type RedisClient,
  type RedisScript,
} from '../../infra/redis/index.js';
import { ADMIT, ADMIT_LUA, LOAD_LUA, RETURN_LUA } from './admission.scripts.js';
import { CONSUMER_GROUP, saleKeys, scanHash } from './flash-keys.js';
import { FlashMetrics } from './flash-metrics.js';
import { PersistPacer } from './flash-persist-pacer.js';
import type { SaleSnapshot } from './flash-sale.view.js';

const CHANNEL = 'flash:state';
/** Set of the ids of sales loaded and not settled: what the workers look after. */
const ACTIVE = 'fs:active';
// A closed sale's answers stay in memory this long after its end (replays
// of late retries), then the replica forgets them.
const KEEP_CLOSED_MS = 10 * 60_000;

interface StateMessage {
  id: number;
  /** `sold_out` and `ended` close the sale on every replica; `open`: a unit came back. */
  state: 'sold_out' | 'ended' | 'open';
}

/**
 * What a replica knows of a sale that is sold out or over: every ticket and
 * every buyer's units, read once from Redis when the sale closed, so that it
 * answers from memory, in the same precedence as the script (a known ticket
 * is admitted again, then 40912, 40911, 40910).
 */
interface ClosedSale {
  why: 'sold_out' | 'ended';
  tickets?: Set<string>;
  buyers?: Map<string, number>;
}

export type AdmitOutcome = 'admitted' | 'replayed';

/** One buy waiting for its turn's script call. */
interface PendingBuy {
  userId: number;
  quantity: number;
  ticket: string;
  key: string;
  resolve: (reply: number) => void;
  reject: (err: unknown) => void;
}

// Buys per script call: bounds the time one call holds Redis (a call of 256
// buys runs for well under a millisecond).
const MAX_BUYS_PER_CALL = 256;

/**
 * The admission gate: while a sale is open, the buys of one event-loop turn
 * are decided by one Lua call (per sale, flushed on setImmediate, like the
 * throttle's counters), each exactly as its own call would have decided it;
 * no Redis call at all once the sale is sold out or over (every replica
 * hears it on the bus). Ticket names are derived (flash-keys.ts), so a
 * replay is recognised wherever it lands.
 */
@Injectable()
export class AdmissionGate implements OnModuleInit {
  private readonly logger = new Logger('FlashAdmission');
  private readonly admitScript: RedisScript<number[]> | undefined;
  private readonly loadScript: RedisScript<number> | undefined;
  private readonly returnScript: RedisScript<number> | undefined;
  private readonly closed = new Map<number, ClosedSale>();
  private readonly keyLists = new Map<number, string[]>();
  private pending = new Map<number, PendingBuy[]>();

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient | null,
    private readonly bus: MessageBus,
    private readonly metrics: FlashMetrics,
    private readonly pacer: PersistPacer,
  ) {
    if (redis) {
      this.admitScript = defineScript(redis, 'flashAdmit', ADMIT_LUA, 5);
      this.loadScript = defineScript(redis, 'flashLoad', LOAD_LUA, 3);
      this.returnScript = defineScript(redis, 'flashReturn', RETURN_LUA, 4);
    }
  }

  onModuleInit(): void {
    this.bus.subscribe(CHANNEL, (message) => this.onState(message));
  }

  get available(): boolean {
    return this.redis !== null;
  }

  /**
   * Admits `quantity` units for the user or throws the 409 of docs/http-api.md. The
   * caller has loaded the sale (`load`) when this answers NOT_LOADED.
   */
  async admit(
    sale: SaleSnapshot,
    userId: number,
    quantity: number,
    ticket: string,
    key: string,
  ): Promise<AdmitOutcome | typeof ADMIT.NOT_LOADED> {
    const now = Date.now();
    // No ticket can exist before the start, so this needs no Redis either.
    if (now < sale.startsMs) return this.refuse('not_live', true);
    let closed = this.closed.get(sale.id);
    if (!closed && now >= sale.endsMs) closed = this.close(sale.id, 'ended');
    if (closed?.tickets && closed.buyers) {
      if (closed.tickets.has(ticket)) return this.outcome('replayed');
      if (closed.why === 'ended') return this.refuse('not_live', true);
      const bought = closed.buyers.get(String(userId)) ?? 0;
      return this.refuse(bought + quantity > sale.perUserLimit ? 'limit' : 'sold_out', true);
    }
    const left = await this.decide(sale.id, userId, quantity, ticket, key);
    if (left >= 0) {
      if (left === 0) this.announce(sale.id, 'sold_out');
      return this.outcome('admitted');
    }
    switch (left) {
      case ADMIT.ALREADY:
        return this.outcome('replayed');
      case ADMIT.NOT_LOADED:
        return ADMIT.NOT_LOADED;
      case ADMIT.NOT_LIVE:
        return this.refuse('not_live', false);
      case ADMIT.LIMIT:
        return this.refuse('limit', false);
      default:
        this.announce(sale.id, 'sold_out');
        return this.refuse('sold_out', false);
    }
  }

  /** Queues the buy for this turn's script call of its sale; resolves with its reply. */
  private decide(
    saleId: number,
    userId: number,
    quantity: number,
    ticket: string,
    key: string,
  ): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) setImmediate(() => this.flush());
      let buys = this.pending.get(saleId);
      if (!buys) {
        buys = [];
        this.pending.set(saleId, buys);
      }
      buys.push({ userId, quantity, ticket, key, resolve, reject });
    });
  }

  private flush(): void {
    const all = this.pending;
    this.pending = new Map();
    for (const [saleId, buys] of all) {
      for (let i = 0; i < buys.length; i += MAX_BUYS_PER_CALL) {
        void this.send(saleId, buys.slice(i, i + MAX_BUYS_PER_CALL));
      }
    }
  }

  /**
   * One script call for the batch. It is shared work: no one request's
   * budget may fail it for the others (Redis's commandTimeout bounds it). A
   * failed call fails every buy of the batch, as each buy's own call would
   * have failed.
   */
  private async send(saleId: number, buys: PendingBuy[]): Promise<void> {
    this.pacer.admitted();
    const args: (string | number)[] = [];
    for (const b of buys) args.push(b.userId, b.quantity, b.ticket, b.key);
    let replies: number[];
    try {
      replies = await withoutBudget(() =>
        (this.admitScript as RedisScript<number[]>)(this.keysOf(saleId), args),
      );
    } catch (err) {
      for (const b of buys) b.reject(err);
      return;
    }
    for (let i = 0; i < buys.length; i++) buys[i].resolve(replies[i]);
  }

  /** Puts a sale into Redis unless it is there already (see LOAD_LUA). */
  async load(sale: SaleSnapshot, units: number): Promise<void> {
    const k = saleKeys(sale.id);
    await (this.loadScript as RedisScript<number>)(
      [k.meta, k.stock, k.stream],
      [sale.startsMs, sale.endsMs, sale.perUserLimit, units, CONSUMER_GROUP],
    );
    await this.client().sadd(ACTIVE, sale.id);
  }

  /** Sales loaded in Redis and not settled yet (one Redis call, no database read). */
  async activeSaleIds(): Promise<number[]> {
    if (!this.redis) return [];
    return (await this.redis.smembers(ACTIVE)).map(Number).sort((a, b) => a - b);
  }

  /** Redis's units left, or undefined when the sale is not in Redis. */
  async unitsLeft(saleId: number): Promise<number | undefined> {
    if (!this.redis) return undefined;
    const v = await this.redis.get(saleKeys(saleId).stock);
    return v === null ? undefined : Number(v);
  }

  /** Gives a failed ticket's units back to the sale (once) and reopens it everywhere. */
  async giveBack(saleId: number, ticket: string): Promise<void> {
    const k = saleKeys(saleId);
    const back = await (this.returnScript as RedisScript<number>)(
      [k.stock, k.buyers, k.tickets, k.returned],
      [ticket],
    );
    if (back === 1) await this.bus.publish(CHANNEL, JSON.stringify({ id: saleId, state: 'open' }));
  }

  /** After settlement: nothing is sold any more, and the keys expire (replays still answer until then). */
  async retire(saleId: number, ttlSeconds: number): Promise<void> {
    if (!this.redis) return;
    const k = saleKeys(saleId);
    const redis = this.redis;
    await redis.srem(ACTIVE, saleId);
    await redis.set(k.stock, 0);
    await Promise.all(Object.values(k).map((key) => redis.expire(key, ttlSeconds)));
    await this.bus.publish(CHANNEL, JSON.stringify({ id: saleId, state: 'ended' }));
  }

  private outcome(o: AdmitOutcome): AdmitOutcome {
    this.metrics.admission(o);
    return o;
  }

  private refuse(why: 'not_live' | 'limit' | 'sold_out', fromMemory: boolean): never {
    this.metrics.admission(fromMemory ? 'from_memory' : why);
    throw new AppError(
      why === 'not_live'
        ? 'FLASH_SALE_NOT_LIVE'
        : why === 'limit'
          ? 'FLASH_SALE_LIMIT_REACHED'
          : 'FLASH_SALE_SOLD_OUT',
    );
  }

  private keysOf(saleId: number): string[] {
    let list = this.keyLists.get(saleId);
    if (!list) {
      const k = saleKeys(saleId);
      list = [k.meta, k.stock, k.buyers, k.tickets, k.stream];
      this.keyLists.set(saleId, list);
    }
    return list;
  }

  private announce(saleId: number, state: 'sold_out'): void {
    if (this.closed.has(saleId)) return;
    this.close(saleId, state);
    void this.bus.publish(CHANNEL, JSON.stringify({ id: saleId, state }));
  }

  private onState(raw: string): void {
    let message: StateMessage;
    try {
      message = JSON.parse(raw) as StateMessage;
    } catch {
      return;
    }
    if (message.state === 'open') this.closed.delete(message.id);
    else this.close(message.id, message.state);
  }

  /** Marks a sale closed here and reads its tickets and buyers once; until then Redis answers. */
  private close(saleId: number, why: ClosedSale['why']): ClosedSale {
    const existing = this.closed.get(saleId);
    if (existing && (existing.why === why || why === 'sold_out')) return existing;
    const state: ClosedSale = { why };
    this.closed.set(saleId, state);
    setTimeout(() => {
      if (this.closed.get(saleId) === state) this.closed.delete(saleId);
    }, KEEP_CLOSED_MS).unref();
    void this.readClosed(saleId)
      .then(({ tickets, buyers }) => {
        state.tickets = tickets;
        state.buyers = buyers;
      })
      .catch((err: Error) => {
        // Redis keeps answering meanwhile; the next close message retries.
        if (this.closed.get(saleId) === state) this.closed.delete(saleId);
        this.logger.warn(`could not read closed sale ${saleId}: ${err.message}`);
      });
    return state;
  }

  private async readClosed(
    saleId: number,
  ): Promise<{ tickets: Set<string>; buyers: Map<string, number> }> {
    const k = saleKeys(saleId);
    const tickets = new Set<string>();
    const buyers = new Map<string, number>();
    const redis = this.client();
    await scanHash(redis, k.tickets, (field) => tickets.add(field));
    await scanHash(redis, k.buyers, (field, value) => buyers.set(field, Number(value)));
    return { tickets, buyers };
  }

  /** Redis, where the caller has already found the gate available. */
  private client(): RedisClient {
    if (!this.redis) throw new Error('flash sales need Redis (REDIS_URL)');
    return this.redis;
  }
}
