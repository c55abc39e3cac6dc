import { TICKET_DIGEST_CHARS } from './flash-keys.js';

// Sticky: tested from the end of the prefix, without slicing the ticket.
const DIGEST = new RegExp(`[A-Za-z0-9_-]{${TICKET_DIGEST_CHARS}}$`, 'y');
/** Slots per ticket at most: a probe finds a free slot within a few steps. */
const MAX_LOAD = 0.75;

/** FNV-1a over the digest's characters (as bytes: base64url is ASCII). */
function hashOf(byteAt: (i: number) => number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < TICKET_DIGEST_CHARS; i++) h = Math.imul(h ^ byteAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The tickets of one closed sale, as a replica keeps them to answer replays
 * from memory: the 22 digest characters of each (`<saleId>-<digest>`, see
 * ticketFor) in one open-addressing table outside the JS heap, 22 bytes a
 * slot. A Set of 100k ticket strings held about 6.5 MB of heap, which
 * replicas read all at once when a sale sold out, at their memory peak; this
 * holds them in about 3 MB. Exact: whole digests are compared, and a ticket
 * of another shape (none is made) is kept as it is, in a plain Set.
 */
export class TicketSet {
  private readonly prefix: string;
  private slots: Buffer;
  private capacity: number;
  private count = 0;
  private readonly other = new Set<string>();

  /** `expected`: how many tickets will be added (the table grows past it). */
  constructor(saleId: number, expected: number) {
    this.prefix = `${saleId}-`;
    this.capacity = Math.max(16, Math.ceil(expected / MAX_LOAD) + 1);
    this.slots = Buffer.alloc(this.capacity * TICKET_DIGEST_CHARS);
  }

  get size(): number {
    return this.count + this.other.size;
  }

  add(ticket: string): void {
    if (!this.derived(ticket)) {
      this.other.add(ticket);
      return;
    }
    const slot = this.find(ticket);
    if (this.slots[slot * TICKET_DIGEST_CHARS] !== 0) return;
    if (this.count + 1 > this.capacity * MAX_LOAD) {
      this.grow();
      this.add(ticket);
      return;
    }
    const base = slot * TICKET_DIGEST_CHARS;
    const offset = this.prefix.length;
    for (let i = 0; i < TICKET_DIGEST_CHARS; i++) {
      this.slots[base + i] = ticket.charCodeAt(offset + i);
    }
    this.count++;
  }

  has(ticket: string): boolean {
    if (!this.derived(ticket)) return this.other.has(ticket);
    return this.slots[this.find(ticket) * TICKET_DIGEST_CHARS] !== 0;
  }

  /** A ticket of this sale as ticketFor makes them: prefix and base64url digest. */
  private derived(ticket: string): boolean {
    if (ticket.length !== this.prefix.length + TICKET_DIGEST_CHARS) return false;
    if (!ticket.startsWith(this.prefix)) return false;
    DIGEST.lastIndex = this.prefix.length;
    return DIGEST.test(ticket);
  }

  /** The slot holding the ticket's digest, or the free slot where it would go. */
  private find(ticket: string): number {
    const offset = this.prefix.length;
    let slot = hashOf((i) => ticket.charCodeAt(offset + i)) % this.capacity;
    for (;;) {
      const base = slot * TICKET_DIGEST_CHARS;
      if (this.slots[base] === 0) return slot;
      let i = 0;
      while (i < TICKET_DIGEST_CHARS && this.slots[base + i] === ticket.charCodeAt(offset + i)) i++;
      if (i === TICKET_DIGEST_CHARS) return slot;
      slot = slot + 1 === this.capacity ? 0 : slot + 1;
    }
  }

  private grow(): void {
    const old = this.slots;
    const oldCapacity = this.capacity;
    this.capacity = oldCapacity * 2;
    this.slots = Buffer.alloc(this.capacity * TICKET_DIGEST_CHARS);
    for (let s = 0; s < oldCapacity; s++) {
      const from = s * TICKET_DIGEST_CHARS;
      if (old[from] === 0) continue;
      let slot = hashOf((i) => old[from + i]) % this.capacity;
      while (this.slots[slot * TICKET_DIGEST_CHARS] !== 0) {
        slot = slot + 1 === this.capacity ? 0 : slot + 1;
      }
      old.copy(this.slots, slot * TICKET_DIGEST_CHARS, from, from + TICKET_DIGEST_CHARS);
    }
  }
}
