import { createHash } from 'node:crypto';
import type { RedisClient } from '../../infra/redis/index.js';

/**
 * Redis layout of one stock bucket of a sale. Every key of a bucket carries
 * its hash tag (`{fs<id>}` for bucket 0, the only one of a sale with
 * FLASH_STOCK_BUCKETS=1, `{fs<id>.<b>}` for the others), so a bucket lives in
 * one slot and its admission script runs on Redis Cluster too; the buckets of
 * one sale sit in different slots, so a Cluster spreads them over its shards.
 */
export interface SaleKeys {
  /** hash: s (starts, ms), e (ends, ms), l (per-user limit) */
  meta: string;
  /** string: units not admitted yet */
  stock: string;
  /** hash: user id → units admitted */
  buyers: string;
  /** hash: ticket → "userId:quantity" */
  tickets: string;
  /** hash: ticket → 1 for a failed ticket whose unit went back (once) */
  returned: string;
  /** stream of admissions, read by the persister's consumer group */
  stream: string;
  /** hash: move id → "toBucket:units", units taken out of this bucket and not yet landed */
  moved: string;
  /** hash: move id → 1, moves that landed here (once each) */
  received: string;
}

export function saleKeys(saleId: number, bucket = 0): SaleKeys {
  const tag = bucket === 0 ? `fs:{fs${saleId}}` : `fs:{fs${saleId}.${bucket}}`;
  return {
    meta: `${tag}:m`,
    stock: `${tag}:st`,
    buyers: `${tag}:b`,
    tickets: `${tag}:t`,
    returned: `${tag}:r`,
    stream: `${tag}:s`,
    moved: `${tag}:x`,
    received: `${tag}:i`,
  };
}

/**
 * The bucket holding a user's counter, tickets and admissions: fixed per
 * user, so one Lua call on one slot decides the per-user limit and the
 * idempotency of every buy of that user exactly, as with one bucket.
 */
export function bucketOf(userId: number, buckets: number): number {
  return buckets > 1 ? userId % buckets : 0;
}

/** Units of a sale's bucket `b` when `units` are split over `buckets`. */
export function shareOf(units: number, buckets: number, b: number): number {
  return Math.floor(units / buckets) + (b < units % buckets ? 1 : 0);
}

export const CONSUMER_GROUP = 'persist';

/** Base64url characters of SHA-256 in a ticket (132 bits). */
export const TICKET_DIGEST_CHARS = 22;
const TICKET = new RegExp(`^(\\d{1,10})-[A-Za-z0-9_-]{${TICKET_DIGEST_CHARS}}$`);

/**
 * The ticket of (sale, user, idempotency key): derived, not drawn, so that a
 * retry with the same key names the same ticket before Redis is asked, and a
 * replica answering from memory can recognise it. Ownership is checked
 * against the stored user id, so knowing a ticket reveals nothing.
 */
export function ticketFor(saleId: number, userId: number, key: string): string {
  const digest = createHash('sha256').update(`${saleId}:${userId}:${key}`).digest('base64url');
  return `${saleId}-${digest.slice(0, TICKET_DIGEST_CHARS)}`;
}

/** The sale id inside a well-formed ticket, or undefined. */
export function saleOfTicket(ticket: string): number | undefined {
  const m = TICKET.exec(ticket);
  return m ? Number(m[1]) : undefined;
}

/** Every field of a hash, read in pages (HSCAN) so a large sale never blocks Redis. */
export async function scanHash(
  redis: RedisClient,
  key: string,
  each: (field: string, value: string) => void,
): Promise<void> {
  let cursor = '0';
  do {
    const [next, flat] = await redis.hscan(key, cursor, 'COUNT', 2000);
    for (let i = 0; i < flat.length; i += 2) each(flat[i], flat[i + 1]);
    cursor = next;
  } while (cursor !== '0');
}
