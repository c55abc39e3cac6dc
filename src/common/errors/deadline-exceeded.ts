/**
 * The request's time budget (REQUEST_BUDGET_*) ran out before a database
 * query, Redis command or WeChat call could finish: 503/50300 with
 * Retry-After, like any other dependency that cannot answer in time. It says
 * nothing about the health of that dependency, so no circuit breaker and no
 * Redis gate counts it.
 */
export class DeadlineExceededError extends Error {
  override name = 'DeadlineExceededError';

  constructor() {
    super('request budget spent');
  }
}
