/** The part of a mysql2 pool connection this file touches. */
interface WrapsInPromises {
  promise(promiseImpl?: PromiseConstructor): unknown;
}

const REUSED = Symbol('reusedPromiseWrapper');

/**
 * TypeORM's MySQL query runner asks the pooled connection for mysql2's
 * promise wrapper on every statement (`connection.promise().query(…)`), and
 * mysql2 makes it with a `require()` (resolved again each time: file stats)
 * and a new EventEmitter: about 6% of POST /orders' CPU
 * (docs/benchmarks.md). The wrapper holds nothing but the connection and
 * forwards its events only while someone listens, so the connection keeps
 * the first one it makes and hands that out again. Idempotent.
 */
export function reusePromiseWrapper<C extends WrapsInPromises>(connection: C): C {
  const marked = connection as C & { [REUSED]?: true };
  if (marked[REUSED]) return connection;
  marked[REUSED] = true;
  const make = connection.promise.bind(connection);
  let wrapper: unknown;
  connection.promise = (promiseImpl?: PromiseConstructor) =>
    promiseImpl === undefined ? (wrapper ??= make()) : make(promiseImpl);
  return connection;
}
