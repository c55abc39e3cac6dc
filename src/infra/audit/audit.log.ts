import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { currentRequestId, idCursor } from '../../common/http/index.js';
import { Transactions } from '../transactions/index.js';
import { AuditEntry } from './audit-entry.entity.js';

/** Every kind of staff write (docs/audit.md). */
export type AuditAction =
  | 'product.create'
  | 'product.update'
  | 'product.delete'
  | 'flash_sale.create'
  | 'order.ship'
  | 'order.cancel'
  | 'order.refund'
  | 'order.reconcile'
  | 'after_sales.approve'
  | 'after_sales.reject'
  | 'after_sales.receive'
  | 'settings.update'
  | 'user.role'
  | 'dead_letter.retry'
  | 'content_flag.clear';

/** A small JSON-able snapshot of the changed fields; never a secret. */
export type AuditSnapshot = Record<string, unknown>;

export interface AuditRecord {
  /** The staff user's id; null for the command line. */
  actorId: number | null;
  action: AuditAction;
  /** `<kind>:<id>`, e.g. `order:42`. */
  target: string;
  before?: AuditSnapshot | null;
  after?: AuditSnapshot | null;
}

export interface AuditEntryRecord {
  id: number;
  actorId: number | null;
  action: string;
  target: string;
  before: AuditSnapshot | null;
  after: AuditSnapshot | null;
  requestId: string | null;
  createdAt: Date;
}

const cursor = idCursor('audit');

function snapshot(json: string | null): AuditSnapshot | null {
  return json === null ? null : (JSON.parse(json) as AuditSnapshot);
}

/**
 * Inserts the audit row of a staff write through the caller's transaction
 * `m`; for code outside the Nest container too (the `npm run admin` command).
 */
export async function recordAudit(m: EntityManager, entry: AuditRecord): Promise<void> {
  await m.insert(AuditEntry, {
    actorId: entry.actorId,
    action: entry.action,
    target: entry.target,
    before: entry.before ? JSON.stringify(entry.before) : null,
    after: entry.after ? JSON.stringify(entry.after) : null,
    // The request context travels with the async call chain into the transaction.
    requestId: currentRequestId() ?? null,
  });
}

/**
 * The audit log of staff writes. `record` takes the caller's transaction:
 * the row commits with the change it describes or not at all, so a write
 * that failed (a 409, a rolled-back race) leaves no row.
 */
@Injectable()
export class AuditLog {
  constructor(private readonly tx: Transactions) {}

  record(m: EntityManager, entry: AuditRecord): Promise<void> {
    return recordAudit(m, entry);
  }

  /** Newest first, `limit` per page; only `actorId`'s writes when given. */
  async list(
    filter: { actorId?: number },
    after: string | undefined,
    limit: number,
  ): Promise<{ items: AuditEntryRecord[]; nextCursor: string | null }> {
    const before = cursor.decode(after);
    const rows = await this.tx.read((m) => {
      const query = m
        .createQueryBuilder(AuditEntry, 'a')
        .orderBy('a.id', 'DESC')
        .take(limit + 1);
      if (filter.actorId !== undefined) query.andWhere('a.actor_id = :actorId', filter);
      if (before !== undefined) query.andWhere('a.id < :before', { before });
      return query.getMany();
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map((row) => ({
        id: row.id,
        actorId: row.actorId,
        action: row.action,
        target: row.target,
        before: snapshot(row.before),
        after: snapshot(row.after),
        requestId: row.requestId,
        createdAt: row.createdAt,
      })),
      nextCursor: rows.length > limit ? cursor.encode(page[page.length - 1].id) : null,
    };
  }
}
