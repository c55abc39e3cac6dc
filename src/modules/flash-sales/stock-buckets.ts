import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  REDIS,
  defineScript,
  type RedisClient,
  type RedisScript,
} from '../../infra/redis/index.js';
import { CENSUS_LUA, LAND_LUA, MOVE_OUT_LUA } from './admission.scripts.js';
import { saleKeys } from './flash-keys.js';

/** What the buckets of a sale hold, summed. */
export interface Census {
  /** Units in the buckets plus units moved out and not landed yet. */
  units: number;
  /** Moves out, not landed (a process died between the two steps, or one is under way). */
  inFlight: number;
  /** Moves landed so far: grows with every move, so two equal reads saw no move between them. */
  landed: number;
}

/**
 * The units of a sale split over FLASH_STOCK_BUCKETS buckets in different
 * hash slots (docs/flash-sales.md, "Stock buckets"). A buyer's counter and
 * tickets stay in the buyer's bucket; only units travel between buckets,
 * each move in two single-slot scripts (out of the source, logged there;
 * into the target, once per move id), so a kill -9 between them leaves the
 * units in the source's log, landed later by `landStranded`.
 */
@Injectable()
export class StockBuckets {
  private readonly moveOut: RedisScript<number> | undefined;
  private readonly land: RedisScript<number> | undefined;
  private readonly census1: RedisScript<[number, number, number]> | undefined;

  constructor(@Inject(REDIS) private readonly redis: RedisClient | null) {
    if (redis) {
      this.moveOut = defineScript(redis, 'flashMoveOut', MOVE_OUT_LUA, 2);
      this.land = defineScript(redis, 'flashLand', LAND_LUA, 2);
      this.census1 = defineScript(redis, 'flashCensus', CENSUS_LUA, 3);
    }
  }

  /** Moves units from bucket `from` to bucket `to` for a buy of `quantity`; resolves with the units moved. */
  async move(saleId: number, from: number, to: number, quantity: number): Promise<number> {
    const src = saleKeys(saleId, from);
    const id = randomBytes(8).toString('hex');
    const units = await (this.moveOut as RedisScript<number>)(
      [src.stock, src.moved],
      [id, to, quantity],
    );
    if (units > 0) await this.finish(saleId, from, to, id, units);
    return units;
  }

  /** Lands every move a dead process left half done (idempotent: each move id lands once). */
  async landStranded(saleId: number, buckets: number): Promise<void> {
    const redis = this.client();
    for (let from = 0; from < buckets; from++) {
      const moves = await redis.hgetall(saleKeys(saleId, from).moved);
      for (const [id, v] of Object.entries(moves)) {
        const [to, units] = v.split(':').map(Number);
        await this.finish(saleId, from, to, id, units);
      }
    }
  }

  /** Every bucket read once (each read atomic on its own slot). */
  async census(saleId: number, buckets: number): Promise<Census> {
    const parts = await Promise.all(
      Array.from({ length: buckets }, (_, b) => {
        const k = saleKeys(saleId, b);
        return (this.census1 as RedisScript<[number, number, number]>)(
          [k.stock, k.moved, k.received],
          [],
        );
      }),
    );
    const sum: Census = { units: 0, inFlight: 0, landed: 0 };
    for (const [left, out, landed] of parts) {
      sum.units += left + out;
      sum.inFlight += out;
      sum.landed += landed;
    }
    return sum;
  }

  /**
   * True only when every bucket is empty with no move under way, in two
   * reads with no move landing between them: the buckets are read one after
   * another, so one read alone could miss units moving from a bucket not
   * read yet into one already read; such a move lands, which the second
   * read sees.
   */
  async allEmpty(saleId: number, buckets: number): Promise<boolean> {
    const first = await this.census(saleId, buckets);
    if (first.units > 0) return false;
    const second = await this.census(saleId, buckets);
    return second.units === 0 && second.landed === first.landed;
  }

  private async finish(
    saleId: number,
    from: number,
    to: number,
    id: string,
    units: number,
  ): Promise<void> {
    const dst = saleKeys(saleId, to);
    await (this.land as RedisScript<number>)([dst.stock, dst.received], [id, units]);
    await this.client().hdel(saleKeys(saleId, from).moved, id);
  }

  private client(): RedisClient {
    if (!this.redis) throw new Error('flash sales need Redis (REDIS_URL)');
    return this.redis;
  }
}
