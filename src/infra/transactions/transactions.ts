import { Inject, Injectable } from '@nestjs/common';
import { DataSource, QueryFailedError, type EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';

// A deadlock victim is rolled back whole, so running it again is safe.
const TRANSACTION_ATTEMPTS = 3;

function driverCode(err: unknown): string | undefined {
  if (!(err instanceof QueryFailedError)) return undefined;
  const driverError = err.driverError as { code?: string } | undefined;
  return driverError?.code ?? undefined;
}

/** A unique index refused the write (MySQL/MariaDB or SQLite). */
export function isDuplicateKey(err: unknown): boolean {
  const code = driverCode(err);
  return code === 'ER_DUP_ENTRY' || (code === 'SQLITE_CONSTRAINT' && /UNIQUE/.test(String(err)));
}

const isDeadlock = (err: unknown) => driverCode(err) === 'ER_LOCK_DEADLOCK';

/**
 * Transactions on the primary for every writer (domain services, the outbox
 * relay, consumers): a deadlock victim runs again, and on the embedded
 * engine, which has one connection, transactions take turns instead of
 * interleaving on it.
 */
@Injectable()
export class Transactions {
  private readonly embedded: boolean;
  private turns: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.embedded = config.database.kind === 'embedded';
  }

  async run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.takingTurns(() => this.dataSource.transaction(work));
      } catch (err) {
        if (attempt >= TRANSACTION_ATTEMPTS || !isDeadlock(err)) throw err;
      }
    }
  }

  /**
   * Reads outside a transaction that must not see another transaction's
   * uncommitted writes: on the embedded engine's one connection they would,
   * so there the read waits for its turn too.
   */
  read<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.takingTurns(() => work(this.dataSource.manager));
  }

  private takingTurns<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.embedded) return fn();
    const run = this.turns.then(fn);
    this.turns = run.catch(() => undefined);
    return run;
  }
}
