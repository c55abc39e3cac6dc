import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppError, validationError } from '../../common/errors/index.js';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { AuditLog } from '../../infra/audit/index.js';
import { TwoTierCache, type GetOrSetOptions } from '../../infra/cache/index.js';
import { ConsistencyService } from '../../infra/consistency/index.js';
import { REDIS, type RedisClient } from '../../infra/redis/index.js';
import { Transactions } from '../../infra/transactions/index.js';
import { Product, ProductStock } from '../catalog/index.js';
import { AdmissionGate } from './admission.gate.js';
import { ADMIT } from './admission.scripts.js';
import { bucketOf, saleKeys, saleOfTicket, ticketFor } from './flash-keys.js';
import type { CreateFlashSaleDto } from './flash-sale.dto.js';
import { FlashSale } from './flash-sale.entity.js';
import {
  snapshotOf,
  toView,
  type AdmissionView,
  type FlashSaleView,
  type SaleSnapshot,
  type TicketView,
} from './flash-sale.view.js';
import { FlashTicket } from './flash-ticket.entity.js';

// docs/http-api.md: `remaining` may lag by up to 1 s; every replica reads the sale
// from its L1 meanwhile, so a crowd refreshing the page costs no round trip.
const SALE_CACHE: GetOrSetOptions = {
  ttlMs: 1000,
  negativeTtlMs: 1000,
  graceMs: 60_000,
  softTimeoutMs: 100,
};
const saleCacheKey = (id: number) => `flash:sale:${id}`;

const NO_REDIS = 'flash sales need Redis (REDIS_URL): admission is counted there';

/** Flash sales: creation (stock carved out of the product), the public view, buying, tickets. */
@Injectable()
export class FlashSalesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly cache: TwoTierCache,
    private readonly gate: AdmissionGate,
    private readonly stock: ProductStock,
    private readonly consistency: ConsistencyService,
    private readonly audit: AuditLog,
    @Inject(REDIS) private readonly redis: RedisClient | null,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(actorId: number, dto: CreateFlashSaleDto): Promise<FlashSaleView> {
    if (!this.gate.available) throw new AppError('UNAVAILABLE', NO_REDIS);
    const startsAt = new Date(dto.startsAt);
    const endsAt = new Date(dto.endsAt);
    if (endsAt.getTime() <= startsAt.getTime()) {
      throw validationError([{ field: 'endsAt', message: 'must be after startsAt' }]);
    }
    if (endsAt.getTime() <= Date.now()) {
      throw validationError([{ field: 'endsAt', message: 'must be in the future' }]);
    }
    const sale = await this.transactions.run(async (m) => {
      const product = await m.findOneBy(Product, { id: dto.productId });
      if (!product) {
        throw validationError([{ field: 'productId', message: 'no such product' }]);
      }
      if (!(await this.stock.take(m, dto.productId, dto.stock))) {
        throw new AppError('CONFLICT', 'the product has less stock than the sale', {
          productId: dto.productId,
          stock: product.stock,
        });
      }
      const now = new Date();
      const row = m.create(FlashSale, {
        productId: dto.productId,
        productName: product.name,
        priceCents: dto.priceCents,
        stock: dto.stock,
        remaining: dto.stock,
        perUserLimit: dto.perUserLimit,
        startsAt,
        endsAt,
        settledAt: null,
        returnedUnits: 0,
        stockBuckets: this.config.flash.stockBuckets,
        createdAt: now,
        updatedAt: now,
      });
      const inserted = await m.insert(FlashSale, row);
      row.id = Number(inserted.identifiers[0].id);
      await this.audit.record(m, {
        actorId,
        action: 'flash_sale.create',
        target: `flash_sale:${row.id}`,
        after: {
          productId: row.productId,
          priceCents: row.priceCents,
          stock: row.stock,
          perUserLimit: row.perUserLimit,
          startsAt: startsAt.toISOString(),
          endsAt: endsAt.toISOString(),
        },
      });
      return row;
    });
    await this.stock.stockChanged([dto.productId]);
    const snapshot = snapshotOf(sale);
    // If this fails the sale is still loaded by its first buyer (NOT_LOADED).
    await this.gate.load(snapshot, sale.remaining).catch(() => undefined);
    await this.cache.delete(saleCacheKey(sale.id));
    return toView(snapshot);
  }

  async view(id: number): Promise<FlashSaleView> {
    return toView(await this.snapshot(id));
  }

  /** Admits the buy or throws its 409; the same key always names the same ticket. */
  async buy(userId: number, saleId: number, quantity: number, key: string): Promise<AdmissionView> {
    if (!this.gate.available) throw new AppError('UNAVAILABLE', NO_REDIS);
    const sale = await this.snapshot(saleId);
    const ticket = ticketFor(saleId, userId, key);
    let outcome = await this.gate.admit(sale, userId, quantity, ticket, key);
    if (outcome === ADMIT.NOT_LOADED) {
      await this.loadFromDatabase(saleId);
      outcome = await this.gate.admit(sale, userId, quantity, ticket, key);
      if (outcome === ADMIT.NOT_LOADED) throw new AppError('UNAVAILABLE', 'sale not loaded');
    }
    return { ticket, status: 'queued' };
  }

  /** A ticket of the user: from the database once written, else from Redis (queued). */
  async ticket(userId: number, ticket: string): Promise<TicketView> {
    const saleId = saleOfTicket(ticket);
    if (saleId === undefined) throw new AppError('NOT_FOUND', 'ticket not found');
    const row = await this.consistency.primaryReads(() =>
      this.dataSource.getRepository(FlashTicket).findOneBy({ ticket }),
    );
    if (row) {
      if (row.userId !== userId) throw new AppError('NOT_FOUND', 'ticket not found');
      return { ticket, status: row.status, orderId: row.orderId, reason: row.reason };
    }
    // Admitted and not written yet: in the buyer's bucket of the sale.
    const sale = await this.snapshot(saleId).catch(() => null);
    const admitted =
      this.redis && sale
        ? await this.redis.hget(saleKeys(saleId, bucketOf(userId, sale.buckets)).tickets, ticket)
        : null;
    if (!admitted || admitted.slice(0, admitted.indexOf(':')) !== String(userId)) {
      throw new AppError('NOT_FOUND', 'ticket not found');
    }
    return { ticket, status: 'queued', orderId: null, reason: null };
  }

  private async snapshot(id: number): Promise<SaleSnapshot> {
    const snapshot = await this.cache.getOrSet(
      saleCacheKey(id),
      async () => {
        const sale = await this.readSale(id);
        if (!sale) return null;
        if (sale.settledAt) return snapshotOf(sale, 0);
        const left = await this.gate.unitsLeft(id, sale.stockBuckets).catch(() => undefined);
        return snapshotOf(sale, left ?? sale.remaining);
      },
      SALE_CACHE,
    );
    if (!snapshot) throw new AppError('NOT_FOUND', 'flash sale not found');
    return snapshot;
  }

  private async loadFromDatabase(id: number): Promise<void> {
    const sale = await this.readSale(id);
    if (!sale) throw new AppError('NOT_FOUND', 'flash sale not found');
    await this.gate.load(snapshotOf(sale), sale.settledAt ? 0 : sale.remaining);
  }

  private readSale(id: number): Promise<FlashSale | null> {
    return this.consistency.primaryReads(() =>
      this.dataSource.getRepository(FlashSale).findOneBy({ id }),
    );
  }
}
