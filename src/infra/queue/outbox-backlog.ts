import type { DataSource } from 'typeorm';

/** The outbox events not yet published, and when the oldest of them was written. */
export interface OutboxBacklog {
  unpublished: number;
  oldestAt: Date | null;
}

/** A raw datetime: mysql2 gives a Date; SQLite gives UTC text without a zone. */
function utcDate(value: Date | string): Date {
  if (value instanceof Date) return value;
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
}

/** One read on `idx_outbox_unpublished`: the /metrics gauges and the staff dashboard show it. */
export async function readOutboxBacklog(dataSource: DataSource): Promise<OutboxBacklog> {
  const [row] = await dataSource.query<{ n: number | string; oldest: Date | string | null }[]>(
    'SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE published_at IS NULL',
  );
  return {
    unpublished: Number(row?.n ?? 0),
    oldestAt: row?.oldest ? utcDate(row.oldest) : null,
  };
}
