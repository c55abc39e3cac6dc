import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DataSource, IsNull, LessThanOrEqual } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { TwoTierCache } from '../../infra/cache/index.js';
import { ConsistencyService } from '../../infra/consistency/index.js';
import { ConsumerRegistry } from '../../infra/queue/index.js';
import { REDIS, type RedisClient } from '../../infra/redis/index.js';
import { Transactions } from '../../infra/transactions/index.js';
import { ProductStock } from '../catalog/index.js';
import { AdmissionGate } from './admission.gate.js';
import { saleKeys, scanHash } from './flash-keys.js';
import { FlashMetrics } from './flash-metrics.js';
import { FlashSale } from './flash-sale.entity.js';
import { FlashTicket } from './flash-ticket.entity.js';

const SWEEP_MS = 1000;
// The database is asked for unsettled sales this often (the first time after this long).
const FULL_SCAN_MS = 5 * 60_000;
// Keys of a settled sale stay this long, so late retries still get their ticket.
const RETIRED_TTL_S = 24 * 3600;

export interface ReconciliationReport {
  saleId: number;
  /** Units Redis admitted and did not give back; null when Redis no longer has the sale. */
  redisAdmittedUnits: number | null;
  placedUnits: number;
  failedUnits: number;
  /** Tickets admitted in Redis that the database has no row for (lost or not yet written). */
  missingInDatabase: number;
  /** Ticket rows Redis never admitted. */
  unknownToRedis: number;
  /** Failed tickets whose unit Redis has not taken back. */
  failedNotReturned: number;
  /** redisAdmittedUnits − placedUnits (0 when both agree). */
  difference: number;
}

/**
 * Sale end: once every admission is written (Redis's units left equal the
 * database's), the unsold units go back to the product, exactly once (a
 * guarded UPDATE of the sale row in the same transaction); then Redis and
 * the database are compared and any difference reported. A sale whose
 * admissions cannot all be written is settled anyway after a grace period:
 * late tickets then fail at the SQL guard (undersell, reported), never oversell.
 * The sweep is a periodic task of the workers: concurrent sweeps of several
 * workers meet at the guarded UPDATE of the sale row.
 */
@Injectable()
export class FlashSettlement implements OnModuleInit {
  private readonly logger = new Logger('FlashSettlement');
  private readonly graceMs: number;
  private scannedAt = Date.now();
  private readonly endsAt = new Map<number, number>();
  private readonly bucketsOf = new Map<number, number>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly consistency: ConsistencyService,
    @Inject(REDIS) private readonly redis: RedisClient | null,
    private readonly gate: AdmissionGate,
    private readonly stock: ProductStock,
    private readonly cache: TwoTierCache,
    private readonly metrics: FlashMetrics,
    private readonly registry: ConsumerRegistry,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    // Long enough for a stopped worker's batch to be claimed and written.
    this.graceMs = config.flash.claimIdleMs * 2 + 10_000;
  }

  onModuleInit(): void {
    this.registry.registerTask({
      name: 'flash-sales.settlement-sweep',
      everyMs: SWEEP_MS,
      run: async () => {
        await this.sweep();
      },
    });
  }

  /** Settles every ended sale that is ready; returns the reports of those settled now. */
  async sweep(now = new Date()): Promise<ReconciliationReport[]> {
    const reports: ReconciliationReport[] = [];
    for (const id of await this.dueIds(now.getTime())) {
      const sale = await this.consistency.primaryReads(() =>
        this.dataSource.manager.findOneBy(FlashSale, { id }),
      );
      if (!sale || sale.settledAt || sale.endsAt.getTime() > now.getTime()) continue;
      const left = await this.gate.unitsLeft(sale.id, sale.stockBuckets).catch(() => undefined);
      const drained = left === undefined || left === sale.remaining;
      if (!drained && now.getTime() < sale.endsAt.getTime() + this.graceMs) continue;
      if (await this.settle(sale.id)) reports.push(await this.reconcile(sale.id));
    }
    return reports;
  }

  /**
   * Ended sales to look at: those Redis lists as active (their end times
   * read once), and every few minutes the database's unsettled ones, for a
   * sale Redis never had or lost. No database poll while nothing is on sale.
   */
  private async dueIds(now: number): Promise<number[]> {
    const active = await this.gate.activeSaleIds().catch(() => []);
    await this.landStranded(active);
    const ids = new Set(active);
    if (now - this.scannedAt >= FULL_SCAN_MS) {
      this.scannedAt = now;
      const unsettled = await this.dataSource.getRepository(FlashSale).find({
        select: { id: true },
        where: { settledAt: IsNull(), endsAt: LessThanOrEqual(new Date(now)) },
        take: 100,
      });
      for (const s of unsettled) ids.add(s.id);
    }
    const due: number[] = [];
    for (const id of ids) {
      let ends = this.endsAt.get(id);
      if (ends === undefined) {
        const row = await this.dataSource.manager.findOneBy(FlashSale, { id });
        if (!row) continue;
        ends = row.endsAt.getTime();
        this.endsAt.set(id, ends);
        this.bucketsOf.set(id, row.stockBuckets);
      }
      if (ends <= now) due.push(id);
    }
    return due;
  }

  /**
   * Moves between stock buckets that a killed process left half done are
   * landed here, each sweep, for every sale on sale (a bucketed sale whose
   * row this sweep has read): until then their units count as left but
   * nobody can buy them.
   */
  private async landStranded(ids: number[]): Promise<void> {
    for (const id of ids) {
      const buckets = this.bucketsOf.get(id) ?? 1;
      if (buckets === 1) continue;
      await this.gate
        .landStranded(id, buckets)
        .catch((err: Error) =>
          this.logger.warn(`sale ${id}: landing moves failed: ${err.message}`),
        );
    }
  }

  /** Returns the unsold units to the product; true only for the call that did it. */
  async settle(saleId: number): Promise<boolean> {
    const sale = await this.transactions.run(async (m) => {
      // The guard: only one caller finds the sale unsettled. Its row lock
      // also holds the persister's guarded decrement off until the commit.
      const done = await m
        .createQueryBuilder()
        .update(FlashSale)
        .set({ returnedUnits: () => 'remaining', settledAt: new Date() })
        .where('id = :saleId AND settled_at IS NULL', { saleId })
        .execute();
      if (done.affected !== 1) return null;
      // A second statement: engines differ on whether one SET list sees its own earlier assignments.
      await m
        .createQueryBuilder()
        .update(FlashSale)
        .set({ remaining: 0 })
        .where('id = :saleId', { saleId })
        .execute();
      const row = await m.findOneByOrFail(FlashSale, { id: saleId });
      if (row.returnedUnits > 0) await this.stock.giveBack(m, row.productId, row.returnedUnits);
      return row;
    });
    if (!sale) return false;
    await this.stock.stockChanged([sale.productId]);
    await this.gate.retire(saleId, sale.stockBuckets, RETIRED_TTL_S).catch(() => undefined);
    await this.cache.delete(`flash:sale:${saleId}`);
    this.endsAt.delete(saleId);
    this.bucketsOf.delete(saleId);
    this.logger.log(
      `flash sale ${saleId} settled: ${sale.returnedUnits} unsold units back to product ${sale.productId}`,
    );
    return true;
  }

  /** Compares what Redis admitted with what the database recorded; logs and counts any difference. */
  async reconcile(saleId: number): Promise<ReconciliationReport> {
    const rows: { ticket: string; status: string; quantity: number }[] = await this.dataSource
      .getRepository(FlashTicket)
      .createQueryBuilder('t')
      .select('t.ticket', 'ticket')
      .addSelect('t.status', 'status')
      .addSelect('t.quantity', 'quantity')
      .where('t.sale_id = :saleId', { saleId })
      .getRawMany();
    const sale = await this.dataSource.manager.findOneBy(FlashSale, { id: saleId });
    const admitted = await this.admittedInRedis(saleId, sale?.stockBuckets ?? 1);
    let placedUnits = 0;
    let failedUnits = 0;
    let unknownToRedis = 0;
    let failedNotReturned = 0;
    const inDatabase = new Set<string>();
    for (const r of rows) {
      inDatabase.add(r.ticket);
      if (r.status === 'placed') placedUnits += Number(r.quantity);
      if (r.status === 'failed') {
        failedUnits += Number(r.quantity);
        if (admitted && !admitted.returned.has(r.ticket)) failedNotReturned++;
      }
      if (admitted && !admitted.tickets.has(r.ticket)) unknownToRedis++;
    }
    let redisAdmittedUnits: number | null = null;
    let missingInDatabase = 0;
    if (admitted) {
      redisAdmittedUnits = 0;
      for (const [ticket, quantity] of admitted.tickets) {
        if (!admitted.returned.has(ticket)) redisAdmittedUnits += quantity;
        if (!inDatabase.has(ticket)) missingInDatabase++;
      }
    }
    const report: ReconciliationReport = {
      saleId,
      redisAdmittedUnits,
      placedUnits,
      failedUnits,
      missingInDatabase,
      unknownToRedis,
      failedNotReturned,
      difference: redisAdmittedUnits === null ? 0 : redisAdmittedUnits - placedUnits,
    };
    const agree =
      report.difference === 0 &&
      missingInDatabase === 0 &&
      unknownToRedis === 0 &&
      failedNotReturned === 0;
    this.metrics.reconcileDifference.set(report.difference);
    if (agree) {
      this.logger.log(
        `flash sale ${saleId} reconciled: Redis and database agree ${JSON.stringify(report)}`,
      );
    } else {
      this.metrics.reconcileMismatches.inc();
      this.logger.warn(`flash sale ${saleId} reconciliation mismatch ${JSON.stringify(report)}`);
    }
    return report;
  }

  private async admittedInRedis(
    saleId: number,
    buckets: number,
  ): Promise<{ tickets: Map<string, number>; returned: Set<string> } | null> {
    if (!this.redis) return null;
    if ((await this.redis.exists(saleKeys(saleId).meta)) === 0) return null;
    const tickets = new Map<string, number>();
    const returned = new Set<string>();
    for (let b = 0; b < buckets; b++) {
      const k = saleKeys(saleId, b);
      await scanHash(this.redis, k.tickets, (field, value) =>
        tickets.set(field, Number(value.slice(value.indexOf(':') + 1))),
      );
      await scanHash(this.redis, k.returned, (field) => returned.add(field));
    }
    return { tickets, returned };
  }
}
