const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A new Idempotency-Key (8–64 of [A-Za-z0-9._:-]): make one per logical
 * order, keep it while that order is retried (a lost answer, a page
 * reopened), and make a new one for the next order. Time plus randomness:
 * the mini-program runtime has no crypto.randomUUID.
 */
export function newIdempotencyKey(): string {
  let random = '';
  for (let i = 0; i < 20; i++) random += ALPHABET[Math.floor(Math.random() * ALPHABET.length)];
  return `mp-${Date.now().toString(36)}-${random}`;
}
