import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger } from '@nestjs/common';
import type { WriteMarkerStore } from './write-markers.js';

export type ReadTarget = 'primary' | 'replica';

/** What one request (or one explicit scope) knows about where its plain reads go. */
interface ReadScope {
  readonly userId: number | undefined;
  /** Once true, every later plain read of the scope goes to the primary. */
  primary: boolean;
  /** The scope's one marker lookup, started by its first plain read. */
  lookup?: Promise<void>;
  looked: boolean;
}

export interface ConsistencyOptions {
  /**
   * False without replicas: every read is on the primary anyway, so no scope
   * is opened and no marker is written.
   */
  enabled: boolean;
  readYourWritesMs: number;
}

const WARN_EVERY_MS = 10_000;

/**
 * Read-your-writes over replicated reads. Plain reads (find*, select query
 * builders outside a transaction) go to a replica unless the current scope
 * says "primary": the scope's user wrote within READ_YOUR_WRITES_MS (a marker
 * in Redis, seen by every replica of the app), or the scope itself wrote.
 *
 * Rules for domain services:
 * - after a committed write on behalf of a user, `await markWrite(userId)`
 *   before answering (not inside the transaction: a rolled-back write needs
 *   no marker, and the marker must exist before the client can read again);
 * - reads inside `dataSource.transaction(async (manager) => ...)` use only
 *   `manager` (manager.findOne, manager.getRepository(X)): repositories
 *   injected into the service do not join the transaction and would read
 *   from a replica;
 * - a read that must see the latest committed state whoever wrote it (an
 *   idempotency-key lookup, a check before a write) runs in `primaryReads`
 *   or inside the transaction.
 */
export class ConsistencyService {
  private readonly scopes = new AsyncLocalStorage<ReadScope>();
  private readonly logger = new Logger('Consistency');
  private lastWarnAt = 0;

  constructor(
    private readonly markers: WriteMarkerStore,
    private readonly options: ConsistencyOptions,
  ) {}

  get enabled(): boolean {
    return this.options.enabled;
  }

  /**
   * Runs `fn` as a request on behalf of `userId` (undefined: anonymous, which
   * never costs a marker lookup). The HTTP interceptor opens one per request;
   * jobs acting for a user may open their own.
   */
  runAs<T>(userId: number | undefined, fn: () => T): T {
    if (!this.options.enabled) return fn();
    return this.scopes.run({ userId, primary: false, looked: false }, fn);
  }

  /** Runs `fn` with every plain read on the primary. */
  primaryReads<T>(fn: () => T): T {
    if (!this.options.enabled) return fn();
    const userId = this.scopes.getStore()?.userId;
    return this.scopes.run({ userId, primary: true, looked: true }, fn);
  }

  /**
   * Records a committed write on behalf of `userId`: the rest of the current
   * scope and that user's requests on any replica of the app, for
   * READ_YOUR_WRITES_MS, read from the primary. A marker that cannot be
   * stored (Redis down) is logged, never thrown: the write itself succeeded.
   */
  async markWrite(userId: number): Promise<void> {
    if (!this.options.enabled) return;
    const scope = this.scopes.getStore();
    if (scope) scope.primary = true;
    try {
      await this.markers.mark(userId, this.options.readYourWritesMs);
    } catch (err) {
      this.warn('could not store a read-your-writes marker', err);
    }
  }

  /**
   * Where the current scope's plain reads go. The marker is looked up once
   * per scope, on its first plain read; no scope (startup, background work)
   * means replica.
   */
  async readTarget(): Promise<ReadTarget> {
    const scope = this.scopes.getStore();
    if (scope === undefined) return 'replica';
    if (!scope.primary && !scope.looked && scope.userId !== undefined) {
      scope.lookup ??= this.lookUp(scope, scope.userId);
      await scope.lookup;
    }
    return scope.primary ? 'primary' : 'replica';
  }

  private async lookUp(scope: ReadScope, userId: number): Promise<void> {
    try {
      if (await this.markers.isMarked(userId)) scope.primary = true;
    } catch (err) {
      // Unknown is treated as "just wrote": the primary is never stale.
      scope.primary = true;
      this.warn('could not read read-your-writes markers; reading from the primary', err);
    } finally {
      scope.looked = true;
    }
  }

  private warn(message: string, err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarnAt < WARN_EVERY_MS) return;
    this.lastWarnAt = now;
    this.logger.warn(`${message}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
