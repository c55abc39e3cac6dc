import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  DataSource,
  In,
  LessThan,
  QueryFailedError,
  type EntityManager,
  type Repository,
} from 'typeorm';
import { AppError, validationError } from '../../common/errors/index.js';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { ConsistencyService } from '../../infra/consistency/index.js';
import { Product, ProductStock } from '../catalog/index.js';
import { ContentSecurity } from '../moderation/index.js';
import { UsersService } from '../users/index.js';
import type { CreateOrderDto } from './order.dto.js';
import { OrderItem } from './order-item.entity.js';
import { Order } from './order.entity.js';
import { toView, type OrderPage, type OrderView } from './order.view.js';
import { MAX_INT, idCursor } from '../../common/http/index.js';
import { requestHash } from './params.js';

/** Order lists go down by id, newest first. */
const PAGES = idCursor('o1');

// A deadlock victim is rolled back whole, so running it again is safe.
const TRANSACTION_ATTEMPTS = 3;

export interface PlacedOrder {
  order: OrderView;
  /** True when the idempotency key had already placed this order. */
  replayed: boolean;
}

function driverCode(err: unknown): string | undefined {
  if (!(err instanceof QueryFailedError)) return undefined;
  const driverError = err.driverError as { code?: string } | undefined;
  return driverError?.code ?? undefined;
}

function isDuplicateKey(err: unknown): boolean {
  const code = driverCode(err);
  return code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

const isDeadlock = (err: unknown) => driverCode(err) === 'ER_LOCK_DEADLOCK';

const byProduct = <T extends { productId: number }>(lines: readonly T[]): T[] =>
  [...lines].sort((a, b) => a.productId - b.productId);

/**
 * Orders: placed and cancelled in one transaction each, on the primary, with
 * the stock change inside it; read from replicas except right after the
 * user's own write (read-your-writes).
 */
@Injectable()
export class OrdersService {
  private readonly embedded: boolean;
  // The embedded engine has one connection: transactions must take turns.
  private embeddedQueue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dataSource: DataSource,
    @InjectRepository(Order) private readonly orders: Repository<Order>,
    @InjectRepository(OrderItem) private readonly orderItems: Repository<OrderItem>,
    private readonly stock: ProductStock,
    private readonly consistency: ConsistencyService,
    private readonly security: ContentSecurity,
    private readonly users: UsersService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.embedded = config.database.kind === 'embedded';
  }

  /**
   * Places an order once per (user, idempotency key). A retry with the same
   * body gets the same order back; the same key with another body is a
   * conflict. The unique index on (user_id, idempotency_key) settles races
   * between app replicas: the loser's insert fails and it answers with the
   * winner's order.
   */
  async place(userId: number, key: string, dto: CreateOrderDto): Promise<PlacedOrder> {
    const hash = requestHash(dto.items, dto.remark);
    const earlier = await this.findByKey(userId, key);
    if (earlier) return this.replay(earlier, hash);

    // The remark passes WeChat content security before anything is written.
    const remark = dto.remark;
    const decision = remark
      ? await this.security.check('order_remark', await this.users.openidOf(userId), remark)
      : undefined;

    let placed: OrderView;
    try {
      placed = await this.inTransaction(async (m) => {
        const order = await this.insertOrder(m, userId, key, hash, dto);
        if (decision && remark) {
          await this.security.flag(m, decision, {
            kind: 'order_remark',
            refId: order.id,
            userId,
            content: remark,
          });
        }
        return order;
      });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const winner = await this.findByKey(userId, key);
      if (!winner) throw err;
      return this.replay(winner, hash);
    }
    await this.stock.stockChanged(placed.items.map((i) => i.productId));
    await this.consistency.markWrite(userId);
    return { order: placed, replayed: false };
  }

  /** Cancels a pending order and returns its stock, exactly once however many cancels race. */
  async cancel(userId: number, orderId: number): Promise<OrderView> {
    const cancelled = await this.inTransaction(async (m) => {
      // The conditional UPDATE is the one gate: concurrent cancels queue on
      // the row lock and only the first still finds the order pending.
      const changed = await m
        .createQueryBuilder()
        .update(Order)
        .set({ status: 'cancelled' })
        .where('id = :orderId AND user_id = :userId AND status = :pending', {
          orderId,
          userId,
          pending: 'pending',
        })
        .execute();
      const order = await m.findOneBy(Order, { id: orderId, userId });
      if (!order) throw new AppError('NOT_FOUND', 'order not found');
      if (changed.affected !== 1) {
        throw new AppError(
          'CONFLICT',
          `only a pending order can be cancelled (it is ${order.status})`,
        );
      }
      const items = await m.find(OrderItem, { where: { orderId }, order: { id: 'ASC' } });
      for (const item of byProduct(items)) {
        await this.stock.giveBack(m, item.productId, item.quantity);
      }
      return toView(order, items);
    });
    await this.stock.stockChanged(cancelled.items.map((i) => i.productId));
    await this.consistency.markWrite(userId);
    return cancelled;
  }

  async get(userId: number, orderId: number): Promise<OrderView> {
    const order = await this.orders.findOneBy({ id: orderId, userId });
    if (!order) throw new AppError('NOT_FOUND', 'order not found');
    const items = await this.orderItems.find({ where: { orderId }, order: { id: 'ASC' } });
    return toView(order, items);
  }

  /** The user's orders, newest first; `nextCursor` is null on the last page. */
  async list(userId: number, cursor: string | undefined, limit: number): Promise<OrderPage> {
    const beforeId = PAGES.decode(cursor);
    const rows = await this.orders.find({
      where: beforeId === undefined ? { userId } : { userId, id: LessThan(beforeId) },
      order: { id: 'DESC' },
      take: limit + 1,
    });
    const page = rows.slice(0, limit);
    const items =
      page.length === 0
        ? []
        : await this.orderItems.find({
            where: { orderId: In(page.map((o) => o.id)) },
            order: { id: 'ASC' },
          });
    const itemsOf = new Map<number, OrderItem[]>();
    for (const item of items) {
      const list = itemsOf.get(item.orderId);
      if (list) list.push(item);
      else itemsOf.set(item.orderId, [item]);
    }
    return {
      items: page.map((o) => toView(o, itemsOf.get(o.id) ?? [])),
      nextCursor: rows.length > limit ? PAGES.encode(page[page.length - 1].id) : null,
    };
  }

  private async insertOrder(
    m: EntityManager,
    userId: number,
    key: string,
    hash: string,
    dto: CreateOrderDto,
  ): Promise<OrderView> {
    const products = await m.find(Product, {
      where: { id: In(dto.items.map((l) => l.productId)) },
    });
    const byId = new Map(products.map((p) => [p.id, p]));
    const unknown = dto.items.flatMap((line, i) =>
      byId.has(line.productId)
        ? []
        : [{ field: `items[${i}].productId`, message: 'no such product' }],
    );
    if (unknown.length > 0) throw validationError(unknown);

    const lines = dto.items.map((line) => {
      const product = byId.get(line.productId) as Product;
      return {
        productId: line.productId,
        productName: product.name,
        unitPriceCents: product.priceCents,
        quantity: line.quantity,
      };
    });
    const totalCents = lines.reduce((sum, l) => sum + l.unitPriceCents * l.quantity, 0);
    if (totalCents > MAX_INT) {
      throw validationError([{ field: 'items', message: 'the order total is too large' }]);
    }

    // Inserted before the stock is taken: a concurrent request with the same
    // key waits here on the unique index until this transaction ends.
    const now = new Date();
    const inserted = await m.insert(Order, {
      userId,
      status: 'pending',
      totalCents,
      remark: dto.remark ?? null,
      idempotencyKey: key,
      requestHash: hash,
      createdAt: now,
      updatedAt: now,
    });
    const orderId = Number(inserted.identifiers[0].id);

    // In product order, so that orders sharing products lock their rows in
    // the same order and cannot deadlock each other.
    for (const line of byProduct(lines)) {
      if (!(await this.stock.take(m, line.productId, line.quantity))) {
        throw new AppError('CONFLICT', 'insufficient stock', { productId: line.productId });
      }
    }
    await m.insert(
      OrderItem,
      lines.map((l) => ({ ...l, orderId })),
    );
    const order = {
      id: orderId,
      status: 'pending' as const,
      totalCents,
      remark: dto.remark ?? null,
    };
    return toView({ ...order, createdAt: now, updatedAt: now }, lines);
  }

  private async replay(order: Order, hash: string): Promise<PlacedOrder> {
    if (order.requestHash !== hash) {
      throw new AppError('CONFLICT', 'Idempotency-Key was already used with a different request');
    }
    const items = await this.consistency.primaryReads(() =>
      this.orderItems.find({ where: { orderId: order.id }, order: { id: 'ASC' } }),
    );
    return { order: toView(order, items), replayed: true };
  }

  /** An idempotency-key lookup must see orders just placed through any app replica. */
  private findByKey(userId: number, key: string): Promise<Order | null> {
    return this.consistency.primaryReads(() =>
      this.orders.findOneBy({ userId, idempotencyKey: key }),
    );
  }

  private async inTransaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.takingTurns(() => this.dataSource.transaction(work));
      } catch (err) {
        if (attempt >= TRANSACTION_ATTEMPTS || !isDeadlock(err)) throw err;
      }
    }
  }

  private takingTurns<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.embedded) return fn();
    const run = this.embeddedQueue.then(fn);
    this.embeddedQueue = run.catch(() => undefined);
    return run;
  }
}
