/**
 * Waits for statements sent together on one transaction's connection
 * without waiting between them (the connection runs them in the order sent,
 * one round trip each, but the caller waits once): their results, or the
 * first failure once every one of them has answered, so nothing of the
 * transaction is still running when the caller rolls it back.
 */
export async function sentTogether<T extends readonly unknown[]>(work: {
  [K in keyof T]: Promise<T[K]>;
}): Promise<T> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
