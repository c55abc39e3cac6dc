import { ConsoleStore, type ConsoleGrant, type TicketRead } from './console-store.js';

interface Ticket {
  binderHash: string;
  grant: ConsoleGrant | undefined;
  expiresAt: number;
}

/**
 * The embedded mode's store (one replica). Every method runs to completion
 * without awaiting, which makes each one atomic like the Redis scripts.
 */
export class MemoryConsoleStore extends ConsoleStore {
  private readonly tickets = new Map<string, Ticket>();
  private readonly sessions = new Map<string, { grant: ConsoleGrant; expiresAt: number }>();

  createTicket(ticket: string, binderHash: string, ttlMs: number): Promise<void> {
    this.sweep();
    this.tickets.set(ticket, { binderHash, grant: undefined, expiresAt: Date.now() + ttlMs });
    return Promise.resolve();
  }

  approveTicket(ticket: string, grant: ConsoleGrant): Promise<boolean> {
    const entry = this.liveTicket(ticket);
    if (entry === undefined || entry.grant !== undefined) return Promise.resolve(false);
    entry.grant = { ...grant };
    return Promise.resolve(true);
  }

  readTicket(ticket: string, binderHash: string): Promise<TicketRead> {
    const entry = this.liveTicket(ticket);
    if (entry === undefined || entry.binderHash !== binderHash) {
      return Promise.resolve({ status: 'expired' });
    }
    if (entry.grant === undefined) return Promise.resolve({ status: 'waiting' });
    this.tickets.delete(ticket);
    return Promise.resolve({ status: 'approved', grant: entry.grant });
  }

  createSession(idHash: string, grant: ConsoleGrant, ttlSec: number): Promise<void> {
    this.sweep();
    this.sessions.set(idHash, { grant: { ...grant }, expiresAt: Date.now() + ttlSec * 1000 });
    return Promise.resolve();
  }

  session(idHash: string): Promise<ConsoleGrant | undefined> {
    const entry = this.sessions.get(idHash);
    if (entry === undefined || entry.expiresAt <= Date.now()) return Promise.resolve(undefined);
    return Promise.resolve({ ...entry.grant });
  }

  endSession(idHash: string): Promise<void> {
    this.sessions.delete(idHash);
    return Promise.resolve();
  }

  private liveTicket(ticket: string): Ticket | undefined {
    const entry = this.tickets.get(ticket);
    return entry !== undefined && entry.expiresAt > Date.now() ? entry : undefined;
  }

  /** Drops what expired, so that abandoned tickets and sessions do not pile up. */
  private sweep(): void {
    const now = Date.now();
    for (const [key, t] of this.tickets) if (t.expiresAt <= now) this.tickets.delete(key);
    for (const [key, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(key);
  }
}
