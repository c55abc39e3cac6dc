import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, LessThan, type EntityManager, type Repository } from 'typeorm';
import { AppError, validationError } from '../../common/errors/index.js';
import { MAX_INT, idCursor } from '../../common/http/index.js';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { AuditLog } from '../../infra/audit/index.js';
import { ConsistencyService } from '../../infra/consistency/index.js';
import { insertMany, sentTogether, supportsReturning } from '../../infra/database/index.js';
import { Transactions } from '../../infra/transactions/index.js';
import { OutboxWriter } from '../../infra/queue/index.js';
import { ProductStock } from '../catalog/index.js';
import { ContentSecurity } from '../moderation/index.js';
import { AddressesService, UsersService, type DeliveryAddress } from '../users/index.js';
import type { CreateOrderDto, SetOrderAddressDto } from './order.dto.js';
import { OrderCancelHooks } from './order-cancel.hooks.js';
import {
  ORDER_EVENTS,
  batchPlacedEvent,
  orderEvent,
  type OrderCancelledPayload,
  type OrderPlacedPayload,
} from './order-events.js';
import { OrderItem } from './order-item.entity.js';
import { OrderShipment } from './order-shipment.entity.js';
import type { OrderActor } from './order-actors.js';
import { OrderTransitions } from './order-transitions.js';
import { ProductPricesMemo } from './product-prices.memo.js';
import { Order, type CancelReason } from './order.entity.js';
import {
  addressColumns,
  shipmentsView,
  toView,
  type OrderDetailView,
  type OrderPage,
  type OrderView,
} from './order.view.js';
import { requestHash } from './params.js';

/** Order lists go down by id, newest first. */
const PAGES = idCursor('o1');

export interface PlacedOrder {
  order: OrderView;
  /** True when the idempotency key had already placed this order. */
  replayed: boolean;
}

const isDue = (order: Order) =>
  order.status === 'pending' && order.payBefore.getTime() <= Date.now();

const byProduct = <T extends { productId: number }>(lines: readonly T[]): T[] =>
  [...lines].sort((a, b) => a.productId - b.productId);

/** Who cancels, for each reason. */
const CANCELLED_BY: Record<CancelReason, OrderActor> = {
  user: 'user',
  admin: 'staff',
  payment_timeout: 'timer',
};

type Line = Pick<OrderItem, 'productId' | 'productName' | 'unitPriceCents' | 'quantity'>;

/** An order another module places in bulk (the flash sale's persister). */
export interface BatchOrder {
  userId: number;
  /** Unique per user, like a POST /orders key: a replayed batch cannot insert the order twice. */
  idempotencyKey: string;
  requestHash: string;
  lines: Line[];
}

/** The address fields PUT /orders/:id/address needs when it names no addressId. */
const INLINE_ADDRESS = ['name', 'phone', 'province', 'city', 'district', 'detail'] as const;

/** Until then the address can change; from shipping on it is what the parcel carries. */
const ADDRESSABLE: Order['status'][] = ['pending', 'paid'];

const totalOf = (lines: readonly Line[]) =>
  lines.reduce((sum, l) => sum + l.unitPriceCents * l.quantity, 0);

/**
 * An order priced from the memo found a product no longer at that name and
 * price (or deleted, or short): it rolls back and is priced again from the
 * database, which also gives the exact 400 or 409.
 */
class StalePrices extends Error {}

/**
 * Orders: placed and cancelled in one transaction each, on the primary, with
 * the stock change inside it; read from replicas except right after the
 * user's own write (read-your-writes).
 */
@Injectable()
export class OrdersService {
  private readonly paymentTimeoutMs: number;
  private readonly prices = new ProductPricesMemo();

  constructor(
    private readonly transactions: Transactions,
    @InjectRepository(Order) private readonly orders: Repository<Order>,
    @InjectRepository(OrderItem) private readonly orderItems: Repository<OrderItem>,
    @InjectRepository(OrderShipment) private readonly shipments: Repository<OrderShipment>,
    private readonly stock: ProductStock,
    private readonly consistency: ConsistencyService,
    private readonly security: ContentSecurity,
    private readonly users: UsersService,
    private readonly addresses: AddressesService,
    private readonly outbox: OutboxWriter,
    private readonly cancelHooks: OrderCancelHooks,
    private readonly transitions: OrderTransitions,
    private readonly audit: AuditLog,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.paymentTimeoutMs = config.orders.paymentTimeoutS * 1000;
  }

  /**
   * Places an order once per (user, idempotency key). A retry with the same
   * body gets the same order back; the same key with another body is a
   * conflict. The unique index on (user_id, idempotency_key) settles races
   * between app replicas: the loser's insert fails and it answers with the
   * winner's order.
   */
  async place(userId: number, key: string, dto: CreateOrderDto): Promise<PlacedOrder> {
    const hash = requestHash(dto.items, dto.remark, dto.addressId);
    const remark = dto.remark;
    // A retry is recognised after the fact (below), which spares a new order
    // its lookup; with a remark it is looked for first, so that content
    // security (a WeChat call) is never asked twice for one order.
    if (remark) {
      const earlier = await this.findByKey(userId, key);
      if (earlier) return this.replay(earlier, hash);
    }

    // The remark passes WeChat content security before anything is written.
    const decision = remark
      ? await this.security.check('order_remark', await this.users.openidOf(userId), remark)
      : undefined;

    const attempt = (remembered: boolean) =>
      this.transactions.run(async (m) => {
        const order = await this.insertOrder(m, userId, key, hash, dto, remembered);
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
    let placed: OrderView;
    try {
      placed = await attempt(true).catch((err: unknown) => {
        if (!(err instanceof StalePrices)) throw err;
        return attempt(false);
      });
    } catch (err) {
      // The key placed an order before (its insert hit the unique index, or
      // this attempt failed on what changed since: a product deleted, stock
      // gone): the retry answers with that order, as if it had been looked
      // up first.
      const earlier = await this.findByKey(userId, key).catch(() => null);
      if (!earlier) throw err;
      return this.replay(earlier, hash);
    }
    await Promise.all([
      this.stock.stockChanged(placed.items.map((i) => i.productId)),
      this.consistency.markWrite(userId),
    ]);
    return { order: placed, replayed: false };
  }

  /**
   * Cancels a pending order and returns its stock, exactly once however many
   * cancels race. `admin`: staff member `staffId` cancels the order of `userId`.
   */
  async cancel(
    userId: number,
    orderId: number,
    reason: Extract<CancelReason, 'user' | 'admin'> = 'user',
    staffId?: number,
  ): Promise<OrderView> {
    const order = await this.consistency.primaryReads(() =>
      this.orders.findOneBy({ id: orderId, userId }),
    );
    if (!order) throw new AppError('NOT_FOUND', 'order not found');
    if (order.status === 'pending') await this.cancelHooks.beforeCancel(order, reason);
    const cancelled = await this.transactions.run(async (m) => {
      const done = await this.cancelPending(m, order, reason, staffId);
      const now = await m.findOneByOrFail(Order, { id: orderId });
      if (!done) {
        throw new AppError(
          'CONFLICT',
          `only a pending order can be cancelled (it is ${now.status})`,
        );
      }
      if (staffId !== undefined) {
        await this.audit.record(m, {
          actorId: staffId,
          action: 'order.cancel',
          target: `order:${orderId}`,
          before: { status: 'pending' },
          after: { status: 'cancelled', cancelReason: reason },
        });
      }
      return toView(now, done.items);
    });
    await this.stock.stockChanged(cancelled.items.map((i) => i.productId));
    await this.consistency.markWrite(userId);
    return cancelled;
  }

  /**
   * Sets the order's own copy of its delivery address, from the user's book
   * (`addressId`) or inline, while it is pending or paid: one guarded UPDATE,
   * so an address never lands on an order that a concurrent shipment took.
   * An address write, not a status change: no timeline row.
   */
  async setAddress(userId: number, orderId: number, dto: SetOrderAddressDto): Promise<OrderView> {
    const inline = this.inlineAddress(dto);
    const view = await this.transactions.run(async (m) => {
      const address =
        dto.addressId === undefined
          ? inline
          : await this.addresses.copyOf(m, userId, dto.addressId);
      const result = await m
        .createQueryBuilder()
        .update(Order)
        .set(addressColumns(address as DeliveryAddress))
        .where('id = :orderId AND user_id = :userId AND status IN (:...statuses)', {
          orderId,
          userId,
          statuses: ADDRESSABLE,
        })
        .execute();
      const order = await m.findOneBy(Order, { id: orderId, userId });
      if (!order) throw new AppError('NOT_FOUND', 'order not found');
      if (result.affected !== 1) {
        throw new AppError(
          'CONFLICT',
          `the address can be set only before the order ships (it is ${order.status})`,
        );
      }
      const items = await m.find(OrderItem, { where: { orderId }, order: { id: 'ASC' } });
      return toView(order, items);
    });
    await this.consistency.markWrite(userId);
    return view;
  }

  /**
   * 409/40920 when the order holds express goods and has no address yet:
   * checked before it is paid. Deleted products still count (their rows stay).
   */
  async requireAddress(order: Order): Promise<void> {
    if (order.addressName !== null) return;
    const [row]: { n: number | string }[] = await this.transactions.read((m) =>
      m.query(
        'SELECT COUNT(*) AS n FROM order_items i JOIN products p ON p.id = i.product_id ' +
          "WHERE i.order_id = ? AND p.delivery = 'express'",
        [order.id],
      ),
    );
    if (Number(row.n) > 0) {
      throw new AppError(
        'ADDRESS_REQUIRED',
        'the order holds goods to ship: set its address first (PUT /orders/:id/address)',
      );
    }
  }

  /**
   * True when every line of the order is a virtual good (delivered by its
   * payment). Read from the products, like requireAddress: their rows stay
   * when deleted, and a product's delivery kind is what the address check
   * before the payment saw too.
   */
  async isVirtualOnly(m: EntityManager, orderId: number): Promise<boolean> {
    const [row]: { n: number | string; v: number | string | null }[] = await m.query(
      'SELECT COUNT(*) AS n, ' +
        "SUM(CASE WHEN p.delivery = 'virtual' THEN 1 ELSE 0 END) AS v " +
        'FROM order_items i JOIN products p ON p.id = i.product_id WHERE i.order_id = ?',
      [orderId],
    );
    return Number(row.n) > 0 && Number(row.n) === Number(row.v);
  }

  /** The buyer confirms a shipped order arrived: completed, once, however the timer races it. */
  async confirmReceipt(userId: number, orderId: number): Promise<OrderView> {
    await this.ownOrder(userId, orderId);
    const view = await this.transactions.run(async (m) => {
      const won = await this.transitions.apply(m, {
        orderId,
        from: 'shipped',
        to: 'completed',
        actor: 'user',
        actorId: userId,
        reason: 'receipt confirmed',
      });
      const order = await m.findOneByOrFail(Order, { id: orderId });
      if (!won) {
        throw new AppError(
          'CONFLICT',
          `only a shipped order can be confirmed received (it is ${order.status})`,
        );
      }
      const items = await m.find(OrderItem, { where: { orderId }, order: { id: 'ASC' } });
      return toView(order, items);
    });
    await this.consistency.markWrite(userId);
    return view;
  }

  /**
   * Cancels order `orderId` with `payment_timeout` if it is still pending and
   * past its payBefore, in its own transaction (the sweeper). False when
   * there was nothing to close: paid, cancelled, or not due yet.
   */
  async expire(orderId: number): Promise<boolean> {
    const order = await this.readPrimary(orderId);
    if (!order || !isDue(order)) return false;
    await this.cancelHooks.beforeCancel(order, 'payment_timeout');
    const closed = await this.transactions.run((m) =>
      this.cancelPending(m, order, 'payment_timeout'),
    );
    if (!closed) return false;
    await this.stock.stockChanged(closed.items.map((i) => i.productId));
    return true;
  }

  /**
   * `expire` inside the caller's transaction (the payment-timeout job's).
   * Returns the order's product ids when it closed the order, for
   * `stockChanged` after the commit; null when there was nothing to close,
   * and `'not_due'` when the order is pending but its payBefore is ahead.
   */
  async expireWithin(m: EntityManager, orderId: number): Promise<number[] | null | 'not_due'> {
    const order = await m.findOneBy(Order, { id: orderId });
    if (!order || order.status !== 'pending') return null;
    if (!isDue(order)) return 'not_due';
    await this.cancelHooks.beforeCancel(order, 'payment_timeout', m);
    const closed = await this.cancelPending(m, order, 'payment_timeout');
    return closed ? closed.items.map((i) => i.productId) : null;
  }

  /**
   * `expireWithin` for each of `orderIds` (a batch placed together) in the
   * caller's transaction: only those still pending are read and closed.
   * Returns the product ids of the orders it closed, or `'not_due'` when one
   * still pending is not due yet (the batch shares its payBefore).
   */
  async expireAllWithin(
    m: EntityManager,
    orderIds: readonly number[],
  ): Promise<number[] | 'not_due'> {
    if (orderIds.length === 0) return [];
    const pending: { id: number }[] = await m.query(
      `SELECT id FROM orders WHERE id IN (${orderIds.map(() => '?').join(', ')}) AND status = 'pending' ORDER BY id`,
      [...orderIds],
    );
    const productIds = new Set<number>();
    for (const { id } of pending) {
      const closed = await this.expireWithin(m, Number(id));
      if (closed === 'not_due') return 'not_due';
      for (const productId of closed ?? []) productIds.add(productId);
    }
    return [...productIds];
  }

  /**
   * Inserts orders placed elsewhere (the flash persister's batch) through the
   * caller's transaction, `pending` with their lines and timeline rows (one
   * multi-row statement per table) and one `order.batch-placed` event. The stock is the
   * caller's (a sale's units, not the product's). Returns the order ids in
   * the order of `orders`.
   */
  async placeBatch(
    m: EntityManager,
    orders: readonly BatchOrder[],
    actor: OrderActor,
    now = new Date(),
  ): Promise<number[]> {
    const payBefore = new Date(now.getTime() + this.paymentTimeoutMs);
    const ids = await this.insertOrderRows(
      m,
      orders.map((o) => ({
        userId: o.userId,
        status: 'pending' as const,
        totalCents: totalOf(o.lines),
        remark: null,
        idempotencyKey: o.idempotencyKey,
        requestHash: o.requestHash,
        payBefore,
        cancelReason: null,
        refundedCents: 0,
        createdAt: now,
        updatedAt: now,
      })),
    );
    await insertMany(
      m,
      OrderItem,
      orders.flatMap((o, i) => o.lines.map((l) => ({ ...l, orderId: ids[i] }))),
    );
    await this.transitions.placed(
      m,
      orders.map((o, i) => ({ orderId: ids[i], actor, actorId: null, createdAt: now })),
    );
    // One event for the batch (not an `order.placed` each): the relay
    // publishes one row and the payment timeout schedules one job for all.
    if (ids.length > 0) {
      await this.outbox.append(
        m,
        batchPlacedEvent({ orderIds: ids, payBefore: payBefore.toISOString() }),
      );
    }
    return ids;
  }

  /** Any user's order (the back office, the payment flow), from the primary. */
  async orderOf(orderId: number): Promise<Order> {
    const order = await this.readPrimary(orderId);
    if (!order) throw new AppError('NOT_FOUND', 'order not found');
    return order;
  }

  /** The user's own order, from the primary; another user's is not found. */
  async ownOrder(userId: number, orderId: number): Promise<Order> {
    const order = await this.consistency.primaryReads(() =>
      this.orders.findOneBy({ id: orderId, userId }),
    );
    if (!order) throw new AppError('NOT_FOUND', 'order not found');
    return order;
  }

  /** The order as the caller's transaction sees it. */
  findWithin(m: EntityManager, orderId: number): Promise<Order | null> {
    return m.findOneBy(Order, { id: orderId });
  }

  /** Call after a committed `expireWithin`: every replica serves the returned stock. */
  stockChanged(productIds: readonly number[]): Promise<void> {
    return this.stock.stockChanged(productIds);
  }

  /** Pending orders whose payBefore passed more than `graceMs` ago, oldest first. */
  async overdue(graceMs: number, limit: number): Promise<number[]> {
    const rows = await this.consistency.primaryReads(() =>
      this.orders.find({
        select: { id: true },
        where: { status: 'pending', payBefore: LessThan(new Date(Date.now() - graceMs)) },
        order: { payBefore: 'ASC' },
        take: limit,
      }),
    );
    return rows.map((r) => r.id);
  }

  async get(userId: number, orderId: number): Promise<OrderView> {
    const order = await this.orders.findOneBy({ id: orderId, userId });
    if (!order) throw new AppError('NOT_FOUND', 'order not found');
    const items = await this.orderItems.find({ where: { orderId }, order: { id: 'ASC' } });
    return toView(order, items);
  }

  /** `GET /orders/:id`: the order with its packages. */
  async detail(userId: number, orderId: number): Promise<OrderDetailView> {
    const [order, packages] = await Promise.all([
      this.get(userId, orderId),
      this.shipments.find({ where: { orderId }, order: { packageIndex: 'ASC' } }),
    ]);
    return { ...order, shipments: shipmentsView(packages) };
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

  /**
   * The order's statements, in as few round trips as their dependencies
   * allow: the lines are priced from the memo when it knows every product
   * (`remembered`; no read), the order row goes first (its id is in every
   * other row, and a racing request with the same key waits on its unique
   * index), then the stock takes, lines, timeline row and event are sent
   * together: one connection runs its statements in the order sent, so the
   * stock rows are still locked in product order.
   */
  private async insertOrder(
    m: EntityManager,
    userId: number,
    key: string,
    hash: string,
    dto: CreateOrderDto,
    remembered: boolean,
  ): Promise<OrderView> {
    const memo = remembered ? this.rememberedLines(dto) : undefined;
    const lines = memo ?? (await this.priceLines(m, dto));
    const totalCents = totalOf(lines);
    const address =
      dto.addressId === undefined
        ? undefined
        : addressColumns(await this.addresses.copyOf(m, userId, dto.addressId));
    // Inserted before the stock is taken: a concurrent request with the same
    // key waits here on the unique index until this transaction ends.
    const now = new Date();
    const payBefore = new Date(now.getTime() + this.paymentTimeoutMs);
    const order = {
      userId,
      status: 'pending' as const,
      totalCents,
      remark: dto.remark ?? null,
      idempotencyKey: key,
      requestHash: hash,
      payBefore,
      cancelReason: null,
      refundedCents: 0,
      ...address,
      createdAt: now,
      updatedAt: now,
    };
    const [orderId] = await this.insertOrderRows(m, [order]);
    const [taken] = await sentTogether([
      this.takeStock(m, lines, memo !== undefined),
      insertMany(
        m,
        OrderItem,
        lines.map((l) => ({ ...l, orderId })),
      ),
      this.transitions.placed(m, [{ orderId, actor: 'user', actorId: userId, createdAt: now }]),
      this.outbox.append(
        m,
        orderEvent<OrderPlacedPayload>(ORDER_EVENTS.placed, {
          orderId,
          userId,
          totalCents,
          payBefore: payBefore.toISOString(),
          items: lines.map((l) => ({ productId: l.productId, quantity: l.quantity })),
        }),
      ),
    ] as const);
    const refused = byProduct(lines).find((_, i) => !taken[i]);
    if (refused && memo) {
      this.prices.forget(lines.map((l) => l.productId));
      throw new StalePrices();
    }
    if (refused) {
      throw new AppError('CONFLICT', 'insufficient stock', { productId: refused.productId });
    }
    return toView({ ...order, id: orderId }, lines);
  }

  /** The order's lines priced from the memo; undefined when it misses a product. */
  private rememberedLines(dto: CreateOrderDto): Line[] | undefined {
    const known = this.prices.lookup(dto.items.map((l) => l.productId));
    if (!known) return undefined;
    const lines = dto.items.map((line, i) => ({
      productId: line.productId,
      productName: known[i].name,
      unitPriceCents: known[i].priceCents,
      quantity: line.quantity,
    }));
    // Too large a total is answered from the database's prices, like any refusal.
    return totalOf(lines) > MAX_INT ? undefined : lines;
  }

  /**
   * The order's lines at today's names and prices: an unknown or deleted
   * product, or a total past the INTEGER column, is a 400 naming it.
   */
  private async priceLines(m: EntityManager, dto: CreateOrderDto): Promise<Line[]> {
    // Only what the order copies (no entity hydration of whole product rows).
    const ids = dto.items.map((l) => l.productId);
    const products: { id: number; name: string; price_cents: number }[] = await m.query(
      `SELECT id, name, price_cents FROM products WHERE id IN (${ids.map(() => '?').join(', ')}) AND deleted_at IS NULL`,
      ids,
    );
    const byId = new Map(products.map((p) => [Number(p.id), p]));
    for (const p of products) {
      this.prices.remember(Number(p.id), { name: p.name, priceCents: Number(p.price_cents) });
    }
    const unknown = dto.items.flatMap((line, i) =>
      byId.has(line.productId)
        ? []
        : [{ field: `items[${i}].productId`, message: 'no such product' }],
    );
    if (unknown.length > 0) throw validationError(unknown);

    const lines = dto.items.map((line) => {
      const product = byId.get(line.productId) as (typeof products)[number];
      return {
        productId: line.productId,
        productName: product.name,
        unitPriceCents: Number(product.price_cents),
        quantity: line.quantity,
      };
    });
    if (totalOf(lines) > MAX_INT) {
      throw validationError([{ field: 'items', message: 'the order total is too large' }]);
    }
    return lines;
  }

  /**
   * Takes each line's units off its product; whether each was taken, in
   * product order. `asPriced`: only at the lines' names and prices.
   */
  private takeStock(
    m: EntityManager,
    lines: readonly Line[],
    asPriced: boolean,
  ): Promise<boolean[]> {
    // Sent in product order without waiting between them (one connection
    // runs them in that order), so that orders sharing products lock their
    // rows in the same order and cannot deadlock each other.
    return Promise.all(
      byProduct(lines).map((l) =>
        asPriced
          ? this.stock.takeAsPriced(m, l.productId, l.quantity, l.productName, l.unitPriceCents)
          : this.stock.take(m, l.productId, l.quantity),
      ),
    );
  }

  /**
   * One multi-row INSERT of new `pending` orders; their ids, in row order.
   * Hand-written: the entity insert reads the defaulted columns back and
   * hydrates them, which no caller needs.
   */
  private async insertOrderRows(m: EntityManager, rows: Partial<Order>[]): Promise<number[]> {
    if (rows.length === 1) {
      return [(await insertMany(m, Order, rows)).insertedId as number];
    }
    const keyOf = (userId: unknown, key: unknown) => `${String(userId)}:${String(key)}`;
    const idOf = new Map<string, number>();
    if (supportsReturning(m)) {
      const { records } = await insertMany(m, Order, rows, {
        returning: ['id', 'userId', 'idempotencyKey'],
      });
      for (const r of records) idOf.set(keyOf(r.userId, r.idempotencyKey), Number(r.id));
    } else {
      // MySQL has no RETURNING: the rows are found again by their unique key.
      await insertMany(m, Order, rows);
      const users = [...new Set(rows.map((r) => r.userId))];
      const keys = rows.map((r) => r.idempotencyKey);
      const found: { id: number; user_id: number; idempotency_key: string }[] = await m.query(
        `SELECT id, user_id, idempotency_key FROM orders WHERE user_id IN (${users.map(() => '?').join(', ')}) ` +
          `AND idempotency_key IN (${keys.map(() => '?').join(', ')})`,
        [...users, ...keys],
      );
      for (const r of found) idOf.set(keyOf(r.user_id, r.idempotency_key), Number(r.id));
    }
    return rows.map((r) => idOf.get(keyOf(r.userId, r.idempotencyKey)) as number);
  }

  /** The inline address of PUT /orders/:id/address, or null when it names an addressId. */
  private inlineAddress(dto: SetOrderAddressDto): DeliveryAddress | null {
    const given = INLINE_ADDRESS.filter((f) => dto[f] !== undefined);
    if (dto.addressId !== undefined) {
      if (given.length > 0 || dto.postalCode !== undefined) {
        throw validationError([
          { field: 'addressId', message: 'give addressId or the address fields, not both' },
        ]);
      }
      return null;
    }
    const missing = INLINE_ADDRESS.filter((f) => dto[f] === undefined);
    if (missing.length > 0) {
      throw validationError(
        missing.map((field) => ({ field, message: `${field} is required without addressId` })),
      );
    }
    return {
      name: dto.name as string,
      phone: dto.phone as string,
      province: dto.province as string,
      city: dto.city as string,
      district: dto.district as string,
      detail: dto.detail as string,
      postalCode: dto.postalCode ?? null,
    };
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

  /**
   * The one gate of every cancel: a guarded transition, so concurrent cancels,
   * timeouts and payments queue on the row lock and only the first still
   * finds the order pending. The winner returns the stock and writes
   * `order.cancelled`; null for a loser.
   */
  private async cancelPending(
    m: EntityManager,
    order: Order,
    reason: CancelReason,
    staffId?: number,
  ): Promise<{ items: OrderItem[] } | null> {
    const actor = CANCELLED_BY[reason];
    const won = await this.transitions.apply(m, {
      orderId: order.id,
      from: 'pending',
      to: 'cancelled',
      actor,
      actorId: actor === 'staff' ? (staffId ?? null) : actor === 'user' ? order.userId : null,
      reason,
      cancelReason: reason,
    });
    if (!won) return null;
    const items = await m.find(OrderItem, { where: { orderId: order.id }, order: { id: 'ASC' } });
    for (const item of byProduct(items)) {
      await this.stock.giveBack(m, item.productId, item.quantity);
    }
    await this.outbox.append(
      m,
      orderEvent<OrderCancelledPayload>(ORDER_EVENTS.cancelled, {
        orderId: order.id,
        userId: order.userId,
        reason,
      }),
    );
    return { items };
  }

  private readPrimary(orderId: number): Promise<Order | null> {
    return this.consistency.primaryReads(() => this.orders.findOneBy({ id: orderId }));
  }
}
