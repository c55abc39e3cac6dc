import type { FlashTicket } from './api.js';
import { TicketFailedError, TicketTimeoutError } from './errors.js';
import { sleep } from './transport.js';

export interface PollOptions {
  /** First wait between two polls (default 300 ms), growing by half each poll. */
  intervalMs?: number;
  /** Longest wait between two polls (default 2 s). */
  maxIntervalMs?: number;
  /** Stop polling after this long (default 30 s): TicketTimeoutError. */
  timeoutMs?: number;
}

/**
 * Polls a flash-sale ticket until it is `placed` (its order's id) or `failed`
 * (TicketFailedError), backing off between polls and giving up after
 * `timeoutMs` (TicketTimeoutError: the ticket may still become an order, and
 * can be polled again with the same ticket).
 */
export async function pollTicket(
  read: () => Promise<FlashTicket>,
  options: PollOptions = {},
): Promise<number> {
  const maxInterval = options.maxIntervalMs ?? 2000;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let interval = options.intervalMs ?? 300;
  for (;;) {
    const ticket = await read();
    if (ticket.status === 'placed' && ticket.orderId !== null) return ticket.orderId;
    if (ticket.status === 'failed') throw new TicketFailedError(ticket.ticket, ticket.reason);
    const left = deadline - Date.now();
    if (left <= 0) throw new TicketTimeoutError(ticket.ticket);
    await sleep(Math.min(interval, left));
    interval = Math.min(interval * 1.5, maxInterval);
  }
}
