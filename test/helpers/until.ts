import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/**
 * Polls `probe` every 50 ms until it returns something other than undefined
 * or false, and returns that; throws after `timeoutMs`. For effects of
 * background work (jobs, the relay) that have no completion signal.
 */
export async function until<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(50);
  }
}
