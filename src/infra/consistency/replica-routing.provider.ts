import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { Counter, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { ConsistencyService } from './consistency.service.js';
import { installReplicaRouting } from './replica-routing.js';

const WARN_EVERY_MS = 10_000;

/** Installs the routing hooks on the app's data source, with metrics and logs. */
@Injectable()
export class ReplicaRouting implements OnModuleInit {
  private readonly logger = new Logger('ReplicaRouting');
  private readonly routes: Counter<'target' | 'reason'>;
  private lastWarnAt = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly consistency: ConsistencyService,
    registry: Registry,
  ) {
    this.routes = new Counter({
      name: 'db_read_routes_total',
      help: 'Plain reads by the server that ran them and why',
      labelNames: ['target', 'reason'],
      registers: [registry],
    });
  }

  onModuleInit(): void {
    installReplicaRouting(this.dataSource, {
      readTarget: () => this.consistency.readTarget(),
      routed: (target, reason, err) => {
        this.routes.inc({ target, reason });
        if (err !== undefined) this.warnFallback(reason, err);
      },
      replicaState: (id, state) =>
        state === 'offline'
          ? this.logger.warn(`replica ${id} is out; retried in DATABASE_REPLICA_RESTORE_MS`)
          : this.logger.log(`replica ${id} is back`),
    });
  }

  private warnFallback(reason: string, err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarnAt < WARN_EVERY_MS) return;
    this.lastWarnAt = now;
    // The error code only: a driver message may quote SQL.
    const e = err as { code?: string; driverError?: { code?: string } };
    this.logger.warn(
      `reads fall back to the primary (${reason}, ${e.driverError?.code ?? e.code ?? 'error'})`,
    );
  }
}
