import type { FlashTicket } from './api.js';
import { TicketFailedError, TicketTimeoutError } from './errors.js';
import { pollTicket } from './flash.js';

const queued: FlashTicket = { ticket: 't1', status: 'queued', orderId: null, reason: null };

/** A ticket that answers `answers` in turn (the last one from then on), counting the polls. */
function ticketAnswering(...answers: FlashTicket[]) {
  const polls: number[] = [];
  const read = () => {
    polls.push(Date.now());
    return Promise.resolve(answers[Math.min(polls.length - 1, answers.length - 1)]);
  };
  return { read, polls };
}

describe('pollTicket', () => {
  it('polls a queued ticket until it is placed and returns its order id', async () => {
    const t = ticketAnswering(queued, queued, { ...queued, status: 'placed', orderId: 42 });
    await expect(pollTicket(t.read, { intervalMs: 1 })).resolves.toBe(42);
    expect(t.polls).toHaveLength(3);
  });

  it('rejects with the reason of a failed ticket', async () => {
    const t = ticketAnswering(queued, { ...queued, status: 'failed', reason: 'order not written' });
    const err = (await pollTicket(t.read, { intervalMs: 1 }).catch(
      (e: unknown) => e,
    )) as TicketFailedError;
    expect(err).toBeInstanceOf(TicketFailedError);
    expect(err.reason).toBe('order not written');
  });

  it('backs off between polls and stops at the cap with TicketTimeoutError', async () => {
    // Fake timers: the gaps are the waits pollTicket asks for, not what a
    // loaded machine's event loop happens to deliver.
    vi.useFakeTimers();
    try {
      const t = ticketAnswering(queued);
      const started = Date.now();
      const settled = pollTicket(t.read, {
        intervalMs: 20,
        maxIntervalMs: 40,
        timeoutMs: 200,
      }).catch((e: unknown) => e);
      await vi.runAllTimersAsync();
      expect(await settled).toBeInstanceOf(TicketTimeoutError);
      expect(Date.now() - started).toBe(200);
      const gaps = t.polls.slice(1).map((at, i) => at - t.polls[i]);
      // 20, 30, 40 (the cap), then 40 until the timeout cuts the last wait short.
      expect(gaps).toEqual([20, 30, 40, 40, 40, 30]);
    } finally {
      vi.useRealTimers();
    }
  });
});
