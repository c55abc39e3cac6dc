import { Injectable } from '@nestjs/common';
import { DataSource, MoreThan, type EntityManager } from 'typeorm';
import { AppError, validationError } from '../../common/errors/index.js';
import { AuditLog } from '../../infra/audit/index.js';
import { TwoTierCache, type GetOrSetOptions } from '../../infra/cache/index.js';
import { forUpdate } from '../../infra/database/index.js';
import { Transactions } from '../../infra/transactions/index.js';
import { DEFAULT_PAGE_SIZE, idCursor } from '../../common/http/index.js';
import type { CreateProductDto, UpdateProductDto } from './product.dto.js';
import { Product } from './product.entity.js';
import { toView, type ProductPage, type ProductView } from './product.view.js';

/** Product lists go up by id. */
const PAGES = idCursor('p1');

const LIST_TAG = 'products:lists';
const itemKey = (id: number) => `product:${id}`;

const ITEM_CACHE: GetOrSetOptions = {
  ttlMs: 60_000,
  negativeTtlMs: 5_000,
  // A product page keeps answering for 10 minutes of database trouble.
  graceMs: 600_000,
  softTimeoutMs: 150,
};
const LIST_CACHE: GetOrSetOptions = {
  ttlMs: 30_000,
  negativeTtlMs: 0,
  graceMs: 600_000,
  softTimeoutMs: 300,
  tags: [LIST_TAG],
};

/**
 * Catalog reads (cached) and admin writes (which invalidate the cached
 * copies on every replica). Cache loaders read from the primary: a lagging
 * replica read right after an invalidation would put the old row back into
 * the cache for a whole TTL.
 */
@Injectable()
export class CatalogService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cache: TwoTierCache,
    private readonly tx: Transactions,
    private readonly audit: AuditLog,
  ) {}

  async getProduct(id: number): Promise<ProductView> {
    const view = await this.cache.getOrSet(
      itemKey(id),
      () =>
        this.onPrimary(async (m) => {
          const product = await m.findOne(Product, { where: { id } });
          return product ? toView(product) : null;
        }),
      ITEM_CACHE,
    );
    if (!view) throw new AppError('NOT_FOUND', 'product not found');
    return view;
  }

  async listProducts(cursor: string | undefined, limit = DEFAULT_PAGE_SIZE): Promise<ProductPage> {
    const afterId = PAGES.decode(cursor) ?? 0;
    const page = await this.cache.getOrSet(
      `products:list:${afterId}:${limit}`,
      () =>
        this.onPrimary(async (m) => {
          const rows = await m.find(Product, {
            where: { id: MoreThan(afterId) },
            order: { id: 'ASC' },
            take: limit + 1,
          });
          const items = rows.slice(0, limit).map(toView);
          const nextCursor = rows.length > limit ? PAGES.encode(items[items.length - 1].id) : null;
          return { items, nextCursor };
        }),
      LIST_CACHE,
    );
    return page ?? { items: [], nextCursor: null };
  }

  async createProduct(actorId: number, dto: CreateProductDto): Promise<ProductView> {
    const fields = {
      name: dto.name,
      description: dto.description ?? '',
      priceCents: dto.priceCents,
      stock: dto.stock,
      imageUrl: dto.imageUrl ?? null,
      delivery: dto.delivery ?? 'express',
    };
    const id = await this.tx.run(async (m) => {
      const inserted = await m.insert(Product, fields);
      const id = Number(inserted.identifiers[0].id);
      await this.audit.record(m, {
        actorId,
        action: 'product.create',
        target: `product:${id}`,
        after: fields,
      });
      return id;
    });
    // A "not found" for this id may be cached from before it existed.
    await this.invalidate([id]);
    return this.readFresh(id);
  }

  async updateProduct(actorId: number, id: number, dto: UpdateProductDto): Promise<ProductView> {
    const changes = Object.fromEntries(
      Object.entries(dto).filter(([, v]) => v !== undefined),
    ) as UpdateProductDto;
    const fields = Object.keys(changes) as (keyof UpdateProductDto)[];
    if (fields.length === 0) {
      throw validationError([{ field: 'body', message: 'at least one field must be given' }]);
    }
    await this.tx.run(async (m) => {
      const current = await this.liveProduct(m, id);
      await m.update(Product, { id }, changes);
      await this.audit.record(m, {
        actorId,
        action: 'product.update',
        target: `product:${id}`,
        before: Object.fromEntries(fields.map((field) => [field, current[field]])),
        after: Object.fromEntries(fields.map((field) => [field, changes[field]])),
      });
    });
    await this.invalidate([id]);
    return this.readFresh(id);
  }

  async deleteProduct(actorId: number, id: number): Promise<void> {
    await this.tx.run(async (m) => {
      const current = await this.liveProduct(m, id);
      const deletedAt = new Date();
      await m.update(Product, { id }, { deletedAt });
      await this.audit.record(m, {
        actorId,
        action: 'product.delete',
        target: `product:${id}`,
        before: { name: current.name, deletedAt: null },
        after: { deletedAt: deletedAt.toISOString() },
      });
    });
    await this.invalidate([id]);
  }

  /** Drops the cached copies of these products and every cached list page, on every replica. */
  async invalidate(ids: readonly number[]): Promise<void> {
    await this.cache.invalidate(ids.map(itemKey), [LIST_TAG]);
  }

  private async readFresh(id: number): Promise<ProductView> {
    const product = await this.onPrimary((m) => m.findOne(Product, { where: { id } }));
    if (!product) throw new AppError('NOT_FOUND', 'product not found');
    return toView(product);
  }

  /**
   * The product, not deleted, with its row locked (MySQL/MariaDB; the embedded
   * engine runs one transaction at a time) so that the audit's "before" is the
   * row the change replaced.
   */
  private async liveProduct(m: EntityManager, id: number): Promise<Product> {
    const product = await forUpdate(
      m,
      m
        .createQueryBuilder(Product, 'p')
        .where('p.id = :id', { id })
        .andWhere('p.deleted_at IS NULL'),
    ).getOne();
    if (!product) throw new AppError('NOT_FOUND', 'product not found');
    return product;
  }

  private async onPrimary<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner('master');
    try {
      return await work(runner.manager);
    } finally {
      await runner.release();
    }
  }
}
