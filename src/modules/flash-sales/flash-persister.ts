import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { REDIS, type RedisClient } from '../../infra/redis/index.js';
import { AdmissionGate } from './admission.gate.js';
import { FlashBatchWriter, type Admission } from './flash-batch.writer.js';
import { PersistPacer } from './flash-persist-pacer.js';
import { CONSUMER_GROUP, saleKeys } from './flash-keys.js';
import { FlashSale } from './flash-sale.entity.js';

type StreamEntry = [id: string, fields: string[] | null];

const IDLE_MS = 20;
/**
 * Batch loops per worker process, each its own consumer in the group: while
 * one batch waits for its commit the others are written, so the database
 * sees several transactions at once (as its own batched-insert rate does)
 * instead of one round trip after another.
 */
export const CONSUMERS_PER_WORKER = 4;
const SALES_REFRESH_MS = 1000;

/** Orders two stream ids (`ms-seq`). */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am === bm ? as - bs : am - bm;
}

function parseEntries(entries: StreamEntry[]): Admission[] {
  const out: Admission[] = [];
  for (const [id, fields] of entries) {
    // A claimed entry deleted meanwhile has no fields.
    if (!fields) continue;
    const f: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
    out.push({ id, ticket: f.t, userId: Number(f.u), quantity: Number(f.q), key: f.k });
  }
  return out;
}

/**
 * Turns admissions into orders. Runs where background work runs: it reads
 * each open sale's stream through one consumer group, a batch at a time
 * (XREADGROUP COUNT n), writes the batch in one transaction, then
 * acknowledges it. A worker that dies leaves its batch pending; another
 * takes it over with XAUTOCLAIM after FLASH_CLAIM_IDLE_MS, and the unique
 * keys make the replay write nothing twice.
 */
@Injectable()
export class FlashPersister implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('FlashPersister');
  private readonly consumers = Array.from(
    { length: CONSUMERS_PER_WORKER },
    (_, i) => `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}-${i}`,
  );
  private readonly claimIdleMs: number;
  private readonly runsHere: boolean;
  private running = false;
  private loops: Promise<void>[] = [];
  private sales: FlashSale[] = [];
  private salesReadAt = 0;
  /** Last XAUTOCLAIM per stream. */
  private readonly claimedAt = new Map<string, number>();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(REDIS) private readonly redis: RedisClient | null,
    private readonly gate: AdmissionGate,
    private readonly writer: FlashBatchWriter,
    private readonly pacer: PersistPacer,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.claimIdleMs = config.flash.claimIdleMs;
    this.runsHere = config.workerMode !== 'http';
  }

  onApplicationBootstrap(): void {
    const redis = this.redis;
    if (!redis || !this.runsHere) return;
    this.running = true;
    this.loops = this.consumers.map((consumer) => this.run(redis, consumer));
  }

  /** Stops after the batch in hand is written (or left pending for another worker). */
  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.pacer.stop();
  }

  private async run(redis: RedisClient, consumer: string): Promise<void> {
    while (this.running) {
      let worked = false;
      try {
        await this.refreshSales();
        for (const sale of this.sales) {
          // Each stock bucket of the sale has its own stream (in its own slot).
          for (let bucket = 0; bucket < sale.stockBuckets; bucket++) {
            if (!this.running) break;
            const stream = saleKeys(sale.id, bucket).stream;
            const written = await this.pacer.run(
              (size) => this.drainOnce(redis, sale, bucket, consumer, size),
              () => redis.xlen(stream),
            );
            worked = written > 0 || worked;
          }
        }
      } catch (err) {
        this.logger.warn(`persisting admissions failed, retrying: ${(err as Error).message}`);
        await sleep(1000);
      }
      if (!worked && this.running) await sleep(IDLE_MS);
    }
  }

  /**
   * The sales to drain: Redis lists them (no database poll while nothing is
   * on sale); each sale's row is read once.
   */
  private async refreshSales(): Promise<void> {
    if (Date.now() - this.salesReadAt < SALES_REFRESH_MS) return;
    const ids = await this.gate.activeSaleIds();
    const known = new Map(this.sales.map((s) => [s.id, s]));
    const rows: FlashSale[] = [];
    for (const id of ids) {
      const row = known.get(id) ?? (await this.dataSource.manager.findOneBy(FlashSale, { id }));
      if (row) rows.push(row);
    }
    this.sales = rows;
    this.salesReadAt = Date.now();
  }

  /**
   * One batch of up to `size` admissions of this sale's bucket: first what a
   * dead consumer left behind, then new entries. Resolves with the entries handled.
   */
  private async drainOnce(
    redis: RedisClient,
    sale: FlashSale,
    bucket: number,
    consumer: string,
    size: number,
  ): Promise<number> {
    const stream = saleKeys(sale.id, bucket).stream;
    let entries: StreamEntry[];
    const now = Date.now();
    if (now - (this.claimedAt.get(stream) ?? 0) >= Math.min(this.claimIdleMs, 5000)) {
      this.claimedAt.set(stream, now);
      const claimed = (await this.withGroup(redis, stream, () =>
        redis.xautoclaim(stream, CONSUMER_GROUP, consumer, this.claimIdleMs, '0-0', 'COUNT', size),
      )) as [string, StreamEntry[]];
      entries = claimed[1];
      if (entries.length > 0) {
        this.logger.warn(
          `took over ${entries.length} admissions of sale ${sale.id} from a stopped worker`,
        );
        // More may be waiting: claim again on the next turn.
        this.claimedAt.delete(stream);
      }
    } else {
      entries = [];
    }
    if (entries.length === 0) {
      const read = (await this.withGroup(redis, stream, () =>
        redis.xreadgroup('GROUP', CONSUMER_GROUP, consumer, 'COUNT', size, 'STREAMS', stream, '>'),
      )) as [string, StreamEntry[]][] | null;
      entries = read?.[0]?.[1] ?? [];
    }
    if (entries.length === 0) return 0;
    const batch = parseEntries(entries);
    if (batch.length > 0) await this.writer.writeOrSplit(sale, batch);
    await this.acknowledge(
      redis,
      stream,
      entries.map((e) => e[0]),
    );
    return entries.length;
  }

  /**
   * Acknowledges written entries and trims the stream below the oldest entry
   * still needed: everything older than both the oldest pending entry and
   * the newest acknowledged one was delivered and acknowledged. (XTRIM MINID
   * drops whole nodes; XDEL of a batch's ids costs Redis milliseconds that
   * every admission would wait behind.)
   */
  private async acknowledge(redis: RedisClient, stream: string, ids: string[]): Promise<void> {
    const replies = await redis
      .multi()
      .xack(stream, CONSUMER_GROUP, ...ids)
      .xpending(stream, CONSUMER_GROUP)
      .exec();
    const summary = replies?.[1]?.[1] as [number, string | null, ...unknown[]] | undefined;
    // Redis answers a batch (read or claimed) in stream order: its last id is the newest.
    const newestAcked = ids[ids.length - 1];
    const oldestPending = summary?.[1] ?? null;
    const bound =
      oldestPending && compareIds(oldestPending, newestAcked) < 0 ? oldestPending : newestAcked;
    await redis.xtrim(stream, 'MINID', '~', bound);
  }

  /** Runs a group command, creating the group first when Redis lost it (or never had it). */
  private async withGroup<T>(
    redis: RedisClient,
    stream: string,
    command: () => Promise<T>,
  ): Promise<T> {
    try {
      return await command();
    } catch (err) {
      if (!/NOGROUP/.test((err as Error).message)) throw err;
      await redis.xgroup('CREATE', stream, CONSUMER_GROUP, '0', 'MKSTREAM').catch((e: Error) => {
        if (!/BUSYGROUP/.test(e.message)) throw e;
      });
      return command();
    }
  }
}
