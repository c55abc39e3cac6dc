import { createHash } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import { insertMany } from '../../infra/database/index.js';
import { Transactions } from '../../infra/transactions/index.js';
import { OrdersService } from '../orders/index.js';
import { AdmissionGate } from './admission.gate.js';
import { bucketOf } from './flash-keys.js';
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

/**
 * Writes batches of admissions: each batch in one transaction, its orders
 * placed through the orders module (one multi-row statement per table), its
 * tickets recorded and the sale's units taken under the SQL guard. Safe to
 * replay: tickets already written are skipped.
 */
@Injectable()
export class FlashBatchWriter {
  private readonly logger = new Logger('FlashPersister');

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly orders: OrdersService,
    private readonly gate: AdmissionGate,
    private readonly metrics: FlashMetrics,
  ) {}

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
    for (const a of outcome.failed) await this.giveBack(sale, a);
    return {
      placed: outcome.placed.length,
      failed: outcome.newlyFailed,
      skipped: outcome.skipped,
    };
  }

  /**
   * A batch the database refuses as a whole is written one ticket at a time,
   * so one bad row cannot hold the others back; a ticket that still fails
   * while the database answers is recorded as failed and its unit returned.
   */
  async writeOrSplit(sale: FlashSale, batch: Admission[]): Promise<void> {
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
  ): Promise<{ placed: Admission[]; failed: Admission[]; newlyFailed: number; skipped: number }> {
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
    const failedBefore = batch.filter((a) => known.get(a.ticket) === 'failed');

    const placed = guarded ? fittingPrefix(mine, left) : mine;
    const refused = mine.slice(placed.length);
    const orderOf = placed.length > 0 ? await this.placeOrders(m, sale, placed, now) : new Map();
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
      failed: [...failedBefore, ...refused],
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

  /** Places the tickets' orders; returns ticket → order id. */
  private async placeOrders(
    m: EntityManager,
    sale: FlashSale,
    placed: Admission[],
    now: Date,
  ): Promise<Map<string, number>> {
    const ids = await this.orders.placeBatch(
      m,
      placed.map((a) => ({
        userId: a.userId,
        // The ticket stands in as the order's idempotency key: unique per
        // user, so a second order for one ticket cannot be inserted.
        idempotencyKey: a.ticket,
        requestHash: createHash('sha256').update(`flash:${a.ticket}`).digest('hex'),
        lines: [
          {
            productId: sale.productId,
            productName: sale.productName,
            unitPriceCents: sale.priceCents,
            quantity: a.quantity,
          },
        ],
      })),
      'flash_sale',
      now,
    );
    return new Map(placed.map((a, i) => [a.ticket, ids[i]]));
  }

  private async recordFailed(sale: FlashSale, a: Admission, reason: string): Promise<void> {
    await insertTickets(this.dataSource.manager, [
      ticketRow(sale.id, a, 'failed', null, reason, new Date()),
    ]);
    this.metrics.ticketsFailed.inc();
    await this.giveBack(sale, a);
  }

  /** A failed ticket's units go back to the bucket that admitted it (its buyer's). */
  private giveBack(sale: FlashSale, a: Admission): Promise<void> {
    return this.gate.giveBack(sale.id, bucketOf(a.userId, sale.stockBuckets), a.ticket);
  }

  private async databaseAnswers(): Promise<boolean> {
    try {
      await this.dataSource.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }
}
