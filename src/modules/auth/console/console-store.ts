import type { UserRole } from '../../../common/auth/index.js';

/** Who approved a sign-in ticket, and so whom its console session is: a staff member's mini-program session. */
export interface ConsoleGrant {
  userId: number;
  /** The staff member's session (the mini-program's); the console lives as long as it does. */
  sessionId: string;
  /** The role at approval, and when it was granted: a console session ends when either changes. */
  role: UserRole;
  grantedAt: number | null;
}

export type TicketRead =
  | { status: 'waiting' }
  /** Approved: the ticket is spent by this read, which starts the console session. */
  | { status: 'approved'; grant: ConsoleGrant }
  | { status: 'expired' };

/**
 * Sign-in tickets and console sessions: in Redis (shared by every replica)
 * or in this process (embedded mode). Each operation is atomic on its own.
 * Tickets are keyed by the ticket and carry the SHA-256 of the secret of the
 * browser that asked for it; sessions are keyed by the SHA-256 of the cookie,
 * so a copy of the store holds nothing a browser could present.
 */
export abstract class ConsoleStore {
  abstract createTicket(ticket: string, binderHash: string, ttlMs: number): Promise<void>;
  /** Approves a waiting ticket; false when it expired, was approved already or never existed. */
  abstract approveTicket(ticket: string, grant: ConsoleGrant): Promise<boolean>;
  /** The ticket's status for the browser holding `binderHash`; an approved ticket is spent by this read. */
  abstract readTicket(ticket: string, binderHash: string): Promise<TicketRead>;
  abstract createSession(idHash: string, grant: ConsoleGrant, ttlSec: number): Promise<void>;
  abstract session(idHash: string): Promise<ConsoleGrant | undefined>;
  abstract endSession(idHash: string): Promise<void>;
}
