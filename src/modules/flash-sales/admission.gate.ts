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
import { CONSUMER_GROUP, bucketOf, saleKeys, scanHash, shareOf } from './flash-keys.js';
import { FlashMetrics } from './flash-metrics.js';
import { PersistPacer } from './flash-persist-pacer.js';
import type { SaleSnapshot } from './flash-sale.view.js';
import { StockBuckets } from './stock-buckets.js';
import { TicketSet } from './ticket-set.js';

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
  /** The sale's stock buckets (absent: 1), so a replica reads every bucket's tickets. */
  buckets?: number;
}

/**
 * What a replica knows of a sale that is sold out or over: every ticket and
 * every buyer's units, read once from Redis when the sale closed, so that it
 * answers from memory, in the same precedence as the script (a known ticket
 * is admitted again, then 40912, 40911, 40910).
 */
interface ClosedSale {
  why: 'sold_out' | 'ended';
  tickets?: TicketSet;
  /** User id → units admitted (numbers: no string kept per buyer). */
  buyers?: Map<number, number>;
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

/** The buys of one turn for one bucket of one sale. */
interface Batch {
  saleId: number;
  bucket: number;
  buys: PendingBuy[];
}

// Bucket of a sale in one number, for the per-turn batches and the key lists.
const slotOf = (saleId: number, bucket: number) => saleId * 1024 + bucket;

// Buys per script call: bounds the time one call holds Redis (a call of 256
// buys runs for well under a millisecond).
const MAX_BUYS_PER_CALL = 256;

/**
 * The admission gate: while a sale is open, the buys of one event-loop turn
 * are decided by one Lua call (per sale and stock bucket, a buyer's bucket
 * being fixed; StockBuckets refills an empty one; flushed on setImmediate, like the
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
  private pending = new Map<number, Batch>();
  private readonly refilling = new Map<string, Promise<number>>();

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient | null,
    private readonly bus: MessageBus,
    private readonly metrics: FlashMetrics,
    private readonly pacer: PersistPacer,
    private readonly buckets: StockBuckets,
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
    if (!closed && now >= sale.endsMs) closed = this.close(sale.id, 'ended', sale.buckets);
    if (closed?.tickets && closed.buyers) {
      if (closed.tickets.has(ticket)) return this.outcome('replayed');
      if (closed.why === 'ended') return this.refuse('not_live', true);
      const bought = closed.buyers.get(userId) ?? 0;
      return this.refuse(bought + quantity > sale.perUserLimit ? 'limit' : 'sold_out', true);
    }
    const bucket = bucketOf(userId, sale.buckets);
    let left = await this.decide(sale.id, bucket, userId, quantity, ticket, key);
    if (left === ADMIT.SOLD_OUT && sale.buckets > 1) {
      left = await this.refill(sale, bucket, userId, quantity, ticket, key);
    }
    if (left >= 0) {
      if (left === 0) this.soldOut(sale);
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
        this.soldOut(sale);
        return this.refuse('sold_out', false);
    }
  }

  /**
   * The buyer's bucket is empty: units are moved into it from the other
   * buckets in turn (each move half of the source, or all of a small one)
   * and the buy is decided again, until it is admitted, refused for another
   * reason, or every other bucket was found empty. The buys of one bucket
   * refused in one turn share each move on this replica.
   */
  private async refill(
    sale: SaleSnapshot,
    home: number,
    userId: number,
    quantity: number,
    ticket: string,
    key: string,
  ): Promise<number> {
    for (let step = 1; step < sale.buckets; step++) {
      const from = (home + step) % sale.buckets;
      const id = `${sale.id}:${from}:${home}`;
      let move = this.refilling.get(id);
      if (!move) {
        move = this.buckets.move(sale.id, from, home, quantity).finally(() => {
          this.refilling.delete(id);
        });
        this.refilling.set(id, move);
      }
      if ((await move) === 0) continue;
      const left = await this.decide(sale.id, home, userId, quantity, ticket, key);
      if (left !== ADMIT.SOLD_OUT) return left;
    }
    return ADMIT.SOLD_OUT;
  }

  /** A bucket ran out: with one bucket the sale did; with several, only if all did. */
  private soldOut(sale: SaleSnapshot): void {
    // A snapshot cached before buckets existed has none: one bucket.
    if (!(sale.buckets > 1)) {
      this.announce(sale.id, 1);
      return;
    }
    void this.buckets
      .allEmpty(sale.id, sale.buckets)
      .then((empty) => {
        if (empty) this.announce(sale.id, sale.buckets);
      })
      .catch((err: Error) => this.logger.warn(`sale ${sale.id} census failed: ${err.message}`));
  }

  /** Queues the buy for this turn's script call of its sale's bucket; resolves with its reply. */
  private decide(
    saleId: number,
    bucket: number,
    userId: number,
    quantity: number,
    ticket: string,
    key: string,
  ): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) setImmediate(() => this.flush());
      const slot = slotOf(saleId, bucket);
      let batch = this.pending.get(slot);
      if (!batch) {
        batch = { saleId, bucket, buys: [] };
        this.pending.set(slot, batch);
      }
      batch.buys.push({ userId, quantity, ticket, key, resolve, reject });
    });
  }

  private flush(): void {
    const all = this.pending;
    this.pending = new Map();
    for (const { saleId, bucket, buys } of all.values()) {
      for (let i = 0; i < buys.length; i += MAX_BUYS_PER_CALL) {
        void this.send(saleId, bucket, buys.slice(i, i + MAX_BUYS_PER_CALL));
      }
    }
  }

  /**
   * One script call for the batch. It is shared work: no one request's
   * budget may fail it for the others (Redis's commandTimeout bounds it). A
   * failed call fails every buy of the batch, as each buy's own call would
   * have failed.
   */
  private async send(saleId: number, bucket: number, buys: PendingBuy[]): Promise<void> {
    this.pacer.admitted();
    const args: (string | number)[] = [];
    for (const b of buys) args.push(b.userId, b.quantity, b.ticket, b.key);
    let replies: number[];
    try {
      replies = await withoutBudget(() =>
        (this.admitScript as RedisScript<number[]>)(this.keysOf(saleId, bucket), args),
      );
    } catch (err) {
      for (const b of buys) b.reject(err);
      return;
    }
    for (let i = 0; i < buys.length; i++) buys[i].resolve(replies[i]);
  }

  /**
   * Puts a sale into Redis unless it is there already (see LOAD_LUA), its
   * units split over its buckets; a bucket already there is left as it is.
   */
  async load(sale: SaleSnapshot, units: number): Promise<void> {
    for (let b = 0; b < sale.buckets; b++) {
      const k = saleKeys(sale.id, b);
      await (this.loadScript as RedisScript<number>)(
        [k.meta, k.stock, k.stream],
        [
          sale.startsMs,
          sale.endsMs,
          sale.perUserLimit,
          shareOf(units, sale.buckets, b),
          CONSUMER_GROUP,
        ],
      );
    }
    await this.client().sadd(ACTIVE, sale.id);
  }

  /** Sales loaded in Redis and not settled yet (one Redis call, no database read). */
  async activeSaleIds(): Promise<number[]> {
    if (!this.redis) return [];
    return (await this.redis.smembers(ACTIVE)).map(Number).sort((a, b) => a - b);
  }

  /**
   * Redis's units left (over all buckets, moves under way included), or
   * undefined when the sale is not in Redis.
   */
  async unitsLeft(saleId: number, buckets: number): Promise<number | undefined> {
    if (!this.redis) return undefined;
    if (buckets > 1) {
      if ((await this.redis.exists(saleKeys(saleId).meta)) === 0) return undefined;
      return (await this.buckets.census(saleId, buckets)).units;
    }
    const v = await this.redis.get(saleKeys(saleId).stock);
    return v === null ? undefined : Number(v);
  }

  /** Lands the moves between buckets that a dead process left half done. */
  async landStranded(saleId: number, buckets: number): Promise<void> {
    if (this.redis && buckets > 1) await this.buckets.landStranded(saleId, buckets);
  }

  /**
   * Gives a failed ticket's units back to the sale (once), into the buyer's
   * bucket where the ticket was admitted, and reopens the sale everywhere.
   */
  async giveBack(saleId: number, bucket: number, ticket: string): Promise<void> {
    const k = saleKeys(saleId, bucket);
    const back = await (this.returnScript as RedisScript<number>)(
      [k.stock, k.buyers, k.tickets, k.returned],
      [ticket],
    );
    if (back === 1) await this.bus.publish(CHANNEL, JSON.stringify({ id: saleId, state: 'open' }));
  }

  /** After settlement: nothing is sold any more, and the keys expire (replays still answer until then). */
  async retire(saleId: number, buckets: number, ttlSeconds: number): Promise<void> {
    if (!this.redis) return;
    const redis = this.redis;
    await redis.srem(ACTIVE, saleId);
    for (let b = 0; b < buckets; b++) {
      const k = saleKeys(saleId, b);
      await redis.set(k.stock, 0);
      await Promise.all(Object.values(k).map((key) => redis.expire(key, ttlSeconds)));
    }
    await this.bus.publish(CHANNEL, JSON.stringify({ id: saleId, state: 'ended', buckets }));
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

  private keysOf(saleId: number, bucket: number): string[] {
    const slot = slotOf(saleId, bucket);
    let list = this.keyLists.get(slot);
    if (!list) {
      const k = saleKeys(saleId, bucket);
      list = [k.meta, k.stock, k.buyers, k.tickets, k.stream];
      this.keyLists.set(slot, list);
    }
    return list;
  }

  private announce(saleId: number, buckets: number): void {
    if (this.closed.has(saleId)) return;
    this.close(saleId, 'sold_out', buckets);
    const message: StateMessage = { id: saleId, state: 'sold_out' };
    if (buckets > 1) message.buckets = buckets;
    void this.bus.publish(CHANNEL, JSON.stringify(message));
  }

  private onState(raw: string): void {
    let message: StateMessage;
    try {
      message = JSON.parse(raw) as StateMessage;
    } catch {
      return;
    }
    if (message.state === 'open') this.closed.delete(message.id);
    else this.close(message.id, message.state, message.buckets ?? 1);
  }

  /** Marks a sale closed here and reads its tickets and buyers once; until then Redis answers. */
  private close(saleId: number, why: ClosedSale['why'], buckets: number): ClosedSale {
    const existing = this.closed.get(saleId);
    if (existing && (existing.why === why || why === 'sold_out')) return existing;
    const state: ClosedSale = { why };
    this.closed.set(saleId, state);
    setTimeout(() => {
      if (this.closed.get(saleId) === state) this.closed.delete(saleId);
    }, KEEP_CLOSED_MS).unref();
    void this.readClosed(saleId, buckets)
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
    buckets: number,
  ): Promise<{ tickets: TicketSet; buyers: Map<number, number> }> {
    const redis = this.client();
    let expected = 0;
    for (let b = 0; b < buckets; b++) expected += await redis.hlen(saleKeys(saleId, b).tickets);
    const tickets = new TicketSet(saleId, expected);
    const buyers = new Map<number, number>();
    // A buyer is counted in one bucket only (bucketOf), so the union is exact.
    for (let b = 0; b < buckets; b++) {
      const k = saleKeys(saleId, b);
      await scanHash(redis, k.tickets, (field) => tickets.add(field));
      await scanHash(redis, k.buyers, (field, value) => buyers.set(Number(field), Number(value)));
    }
    return { tickets, buyers };
  }

  /** Redis, where the caller has already found the gate available. */
  private client(): RedisClient {
    if (!this.redis) throw new Error('flash sales need Redis (REDIS_URL)');
    return this.redis;
  }
}
