import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
// The module itself, not the barrel: that one imports every entity (a cycle).
import { insertMany, supportsReturning } from '../../infra/database/index.js';
import { OutboxWriter } from '../../infra/queue/index.js';
import { REDIS } from '../../infra/redis/index.js';
import { Transactions } from '../../infra/transactions/index.js';
import {
  ORDER_EVENTS,
  Order,
  OrderItem,
  orderEvent,
  type OrderPlacedPayload,
} from '../orders/index.js';
import { AdmissionGate } from './admission.gate.js';
import { CONSUMER_GROUP, saleKeys } from './flash-keys.js';
import { FlashMetrics } from './flash-metrics.js';
import { FlashSale } from './flash-sale.entity.js';
import { FlashTicket, type TicketStatus } from './flash-ticket.entity.js';

/** One stream entry: an admitted ticket. */
export interface Admission {
  id: string;
  ticket: string;
  userId: number;
  quantity: number;
  key: string;
}

export interface BatchResult {
  placed: number;
  failed: number;
  /** Tickets the database already had (a replayed batch). */
  skipped: number;
}

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
/** Reason of a ticket whose units the database's guard refused (Redis admitted more than it holds). */
export const REASON_NO_STOCK = 'sale_stock_exhausted';
/** Reason of a ticket whose order the database refused on its own. */
export const REASON_WRITE_FAILED = 'order_write_failed';

function ticketRow(
  saleId: number,
  a: Admission,
  status: Exclude<TicketStatus, 'queued'>,
  orderId: number | null,
  reason: string | null,
  now: Date,
): Partial<FlashTicket> {
  return {
    ticket: a.ticket,
    saleId,
    userId: a.userId,
    idempotencyKey: a.key,
    quantity: a.quantity,
    status,
    orderId,
    reason,
    createdAt: now,
  };
}

/** The sale's row has fewer units than the batch: written again, guarded. */
class GuardRefused extends Error {}

const unitsOf = (list: readonly Admission[]) => list.reduce((sum, a) => sum + a.quantity, 0);

/** The admissions, in stream order, that `left` units cover. */
function fittingPrefix(list: readonly Admission[], left: number): Admission[] {
  const out: Admission[] = [];
  for (const a of list) {
    if (a.quantity > left) break;
    left -= a.quantity;
    out.push(a);
  }
  return out;
}

/** INSERT IGNORE (OR IGNORE on SQLite): a ticket already recorded stays as it is. */
async function insertTickets(m: EntityManager, rows: Partial<FlashTicket>[]): Promise<void> {
  await m
    .createQueryBuilder()
    .insert()
    .into(FlashTicket)
    .values(rows)
    .orIgnore()
    .updateEntity(false)
    .execute();
}

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
  private readonly batchSize: number;
  private readonly claimIdleMs: number;
  private readonly paymentTimeoutMs: number;
  private readonly runsHere: boolean;
  private running = false;
  private loops: Promise<void>[] = [];
  private sales: FlashSale[] = [];
  private salesReadAt = 0;
  private readonly claimedAt = new Map<number, number>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly outbox: OutboxWriter,
    @Inject(REDIS) private readonly redis: Redis | null,
    private readonly gate: AdmissionGate,
    private readonly metrics: FlashMetrics,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.batchSize = config.flash.batchSize;
    this.claimIdleMs = config.flash.claimIdleMs;
    this.paymentTimeoutMs = config.orders.paymentTimeoutS * 1000;
    this.runsHere = config.workerMode !== 'http';
  }

  onApplicationBootstrap(): void {
    if (!this.redis || !this.runsHere) return;
    this.running = true;
    this.loops = this.consumers.map((consumer) => this.run(consumer));
  }

  /** Stops after the batch in hand is written (or left pending for another worker). */
  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /**
   * Writes one batch of one sale in one transaction and returns what it did.
   * Safe to call with entries already written: those are skipped.
   */
  async writeBatch(sale: FlashSale, batch: Admission[]): Promise<BatchResult> {
    const started = process.hrtime.bigint();
    // Optimistic first: the sale row is taken last, so concurrent batches
    // hold its lock only for their commit. When the guard refuses, the
    // batch runs again holding the row from the start, placing what fits.
    const outcome = await this.transactions
      .run((m) => this.writeIn(m, sale, batch, false))
      .catch((err: unknown) => {
        if (!(err instanceof GuardRefused)) throw err;
        return this.transactions.run((m) => this.writeIn(m, sale, batch, true));
      });
    this.metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    this.metrics.ordersWritten.inc(outcome.placed.length);
    this.metrics.ticketsFailed.inc(outcome.newlyFailed);
    // After the commit, and again on a replay (the return is idempotent):
    // a crash between the two must not keep a failed ticket's unit away.
    for (const ticket of outcome.failed) await this.gate.giveBack(sale.id, ticket);
    return {
      placed: outcome.placed.length,
      failed: outcome.newlyFailed,
      skipped: outcome.skipped,
    };
  }

  private async run(consumer: string): Promise<void> {
    while (this.running) {
      let worked = false;
      try {
        await this.refreshSales();
        for (const sale of this.sales) {
          if (!this.running) break;
          worked = (await this.drainOnce(sale, consumer)) || worked;
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

  /** One batch of this sale: first what a dead consumer left behind, then new entries. */
  private async drainOnce(sale: FlashSale, consumer: string): Promise<boolean> {
    const redis = this.redis as Redis;
    const stream = saleKeys(sale.id).stream;
    let entries: StreamEntry[];
    const now = Date.now();
    if (now - (this.claimedAt.get(sale.id) ?? 0) >= Math.min(this.claimIdleMs, 5000)) {
      this.claimedAt.set(sale.id, now);
      const claimed = (await this.withGroup(stream, () =>
        redis.xautoclaim(
          stream,
          CONSUMER_GROUP,
          consumer,
          this.claimIdleMs,
          '0-0',
          'COUNT',
          this.batchSize,
        ),
      )) as [string, StreamEntry[]];
      entries = claimed[1];
      if (entries.length > 0) {
        this.logger.warn(
          `took over ${entries.length} admissions of sale ${sale.id} from a stopped worker`,
        );
        // More may be waiting: claim again on the next turn.
        this.claimedAt.delete(sale.id);
      }
    } else {
      entries = [];
    }
    if (entries.length === 0) {
      const read = (await this.withGroup(stream, () =>
        redis.xreadgroup(
          'GROUP',
          CONSUMER_GROUP,
          consumer,
          'COUNT',
          this.batchSize,
          'STREAMS',
          stream,
          '>',
        ),
      )) as [string, StreamEntry[]][] | null;
      entries = read?.[0]?.[1] ?? [];
    }
    if (entries.length === 0) return false;
    const batch = parseEntries(entries);
    if (batch.length > 0) await this.writeOrSplit(sale, batch);
    await this.acknowledge(
      stream,
      entries.map((e) => e[0]),
    );
    return true;
  }

  /**
   * Acknowledges written entries and trims the stream below the oldest entry
   * still needed: everything older than both the oldest pending entry and
   * the newest acknowledged one was delivered and acknowledged. (XTRIM MINID
   * drops whole nodes; XDEL of a batch's ids costs Redis milliseconds that
   * every admission would wait behind.)
   */
  private async acknowledge(stream: string, ids: string[]): Promise<void> {
    const redis = this.redis as Redis;
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

  /**
   * A batch the database refuses as a whole is written one ticket at a time,
   * so one bad row cannot hold the others back; a ticket that still fails
   * while the database answers is recorded as failed and its unit returned.
   */
  private async writeOrSplit(sale: FlashSale, batch: Admission[]): Promise<void> {
    try {
      await this.writeBatch(sale, batch);
      return;
    } catch (err) {
      if (batch.length === 1 && !(await this.databaseAnswers())) throw err;
      if (batch.length > 1) {
        this.logger.warn(
          `batch of ${batch.length} refused, writing one by one: ${(err as Error).message}`,
        );
      }
    }
    for (const admission of batch) {
      try {
        await this.writeBatch(sale, [admission]);
      } catch (err) {
        if (!(await this.databaseAnswers())) throw err;
        this.logger.error(
          `ticket ${admission.ticket} cannot become an order: ${(err as Error).message}`,
        );
        await this.recordFailed(sale, admission, REASON_WRITE_FAILED);
      }
    }
  }

  /**
   * The batch in one transaction, one multi-row statement per table: see
   * which tickets a replay already wrote, insert orders, items, events and
   * tickets, then take the units off the sale's row under the SQL guard.
   * `guarded`: the row is locked first and only the tickets its units cover
   * are placed (the rest fail); otherwise a refusing guard throws
   * GuardRefused and the transaction rolls back.
   */
  private async writeIn(
    m: EntityManager,
    sale: FlashSale,
    batch: Admission[],
    guarded: boolean,
  ): Promise<{ placed: Admission[]; failed: string[]; newlyFailed: number; skipped: number }> {
    const now = new Date();
    const left = guarded ? await this.lockSale(m, sale.id) : Infinity;
    // Tickets already written (a replayed batch, or one taken over from a
    // worker that was only slow): committed rows are `placed` or `failed`.
    // A writer of the same tickets committing after this read makes the
    // inserts below fail on the unique keys (the batch is then split).
    const known = new Map<string, string>();
    const tickets = batch.map((a) => a.ticket);
    const rows: { ticket: string; status: string }[] = await m.query(
      `SELECT ticket, status FROM flash_tickets WHERE ticket IN (${tickets.map(() => '?').join(', ')})`,
      tickets,
    );
    for (const r of rows) known.set(r.ticket, r.status);
    const mine = batch.filter((a) => !known.has(a.ticket));
    const failedBefore = batch.filter((a) => known.get(a.ticket) === 'failed').map((a) => a.ticket);

    const placed = guarded ? fittingPrefix(mine, left) : mine;
    const refused = mine.slice(placed.length);
    const orderOf = placed.length > 0 ? await this.insertOrders(m, sale, placed, now) : new Map();
    await insertMany(m, FlashTicket, [
      ...placed.map((a) =>
        ticketRow(sale.id, a, 'placed', orderOf.get(a.ticket) ?? null, null, now),
      ),
      ...refused.map((a) => ticketRow(sale.id, a, 'failed', null, REASON_NO_STOCK, now)),
    ]);
    // Last, so the row is locked from here to the commit only.
    if (!(await this.changeRemaining(m, sale.id, -unitsOf(placed)))) {
      if (guarded) throw new Error(`sale ${sale.id} changed under its lock`);
      throw new GuardRefused();
    }
    return {
      placed,
      failed: [...failedBefore, ...refused.map((a) => a.ticket)],
      newlyFailed: refused.length,
      skipped: batch.length - mine.length,
    };
  }

  /**
   * `remaining += delta`, guarded so it never goes below zero (the SQL guard
   * under Redis: the database never records more than the sale holds, even
   * if Redis were wrong). False when the guard refused.
   */
  private async changeRemaining(m: EntityManager, saleId: number, delta: number): Promise<boolean> {
    if (delta === 0) return true;
    const result = await (m.queryRunner as QueryRunner).query(
      'UPDATE flash_sales SET remaining = remaining + ? WHERE id = ? AND remaining + ? >= 0',
      [delta, saleId, delta],
      true,
    );
    return result.affected === 1;
  }

  /** Locks the sale row (the embedded engine has one writer) and reads its units left. */
  private async lockSale(m: EntityManager, saleId: number): Promise<number> {
    const forUpdate = m.connection.driver.options.type === 'better-sqlite3' ? '' : ' FOR UPDATE';
    const rows: { remaining: number }[] = await m.query(
      `SELECT remaining FROM flash_sales WHERE id = ?${forUpdate}`,
      [saleId],
    );
    return Number(rows[0]?.remaining ?? 0);
  }

  /** Inserts the orders, their items and `order.placed` events; returns ticket → order id. */
  private async insertOrders(
    m: EntityManager,
    sale: FlashSale,
    placed: Admission[],
    now: Date,
  ): Promise<Map<string, number>> {
    const payBefore = new Date(now.getTime() + this.paymentTimeoutMs);
    const rows: Partial<Order>[] = placed.map((a) => ({
      userId: a.userId,
      status: 'pending' as const,
      totalCents: sale.priceCents * a.quantity,
      remark: null,
      // The ticket stands in as the order's idempotency key: unique per
      // user, so a second order for one ticket cannot be inserted.
      idempotencyKey: a.ticket,
      requestHash: createHash('sha256').update(`flash:${a.ticket}`).digest('hex'),
      payBefore,
      cancelReason: null,
      refundedCents: 0,
      createdAt: now,
      updatedAt: now,
    }));
    const orderOf = new Map<string, number>();
    if (supportsReturning(m)) {
      const { records } = await insertMany(m, Order, rows, { returning: ['id', 'idempotencyKey'] });
      for (const r of records) orderOf.set(String(r.idempotencyKey), Number(r.id));
    } else {
      await insertMany(m, Order, rows);
      const tickets = placed.map((a) => a.ticket);
      const users = [...new Set(placed.map((a) => a.userId))];
      const ids: { id: number; ticket: string }[] = await m.query(
        `SELECT id, idempotency_key AS ticket FROM orders WHERE user_id IN (${users.map(() => '?').join(', ')}) ` +
          `AND idempotency_key IN (${tickets.map(() => '?').join(', ')})`,
        [...users, ...tickets],
      );
      for (const r of ids) orderOf.set(r.ticket, Number(r.id));
    }
    await insertMany(
      m,
      OrderItem,
      placed.map((a) => ({
        orderId: orderOf.get(a.ticket) as number,
        productId: sale.productId,
        productName: sale.productName,
        unitPriceCents: sale.priceCents,
        quantity: a.quantity,
      })),
    );
    // The same event as an order placed through POST /orders: payment,
    // timeout and notifications treat both alike.
    await this.outbox.append(
      m,
      placed.map((a) =>
        orderEvent<OrderPlacedPayload>(ORDER_EVENTS.placed, {
          orderId: orderOf.get(a.ticket) as number,
          userId: a.userId,
          totalCents: sale.priceCents * a.quantity,
          payBefore: payBefore.toISOString(),
          items: [{ productId: sale.productId, quantity: a.quantity }],
        }),
      ),
    );
    return orderOf;
  }

  private async recordFailed(sale: FlashSale, a: Admission, reason: string): Promise<void> {
    await insertTickets(this.dataSource.manager, [
      ticketRow(sale.id, a, 'failed', null, reason, new Date()),
    ]);
    this.metrics.ticketsFailed.inc();
    await this.gate.giveBack(sale.id, a.ticket);
  }

  private async databaseAnswers(): Promise<boolean> {
    try {
      await this.dataSource.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /** Runs a group command, creating the group first when Redis lost it (or never had it). */
  private async withGroup<T>(stream: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      if (!/NOGROUP/.test((err as Error).message)) throw err;
      await (this.redis as Redis)
        .xgroup('CREATE', stream, CONSUMER_GROUP, '0', 'MKSTREAM')
        .catch((e: Error) => {
          if (!/BUSYGROUP/.test(e.message)) throw e;
        });
      return command();
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
