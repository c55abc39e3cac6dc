import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { AppError } from '../../common/errors/index.js';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { MessageBus } from '../bus/index.js';
import {
  decodeSettings,
  frozen,
  seedSettings,
  type FeatureName,
  type Settings,
  type SettingsPatch,
} from './settings.model.js';
import { SettingsStore, type VersionedSettings } from './settings.store.js';

const CHANNEL = 'settings:changed';

/**
 * The runtime settings every replica applies: an in-memory snapshot that hot
 * paths read synchronously (no I/O per request), kept current by the bus —
 * a change is published with its version, so every replica applies it within
 * the bus's delivery time — and by a periodic re-read from the database, the
 * net for a message lost while Redis was away. A snapshot is applied only if
 * its version is newer, so a late message never undoes a later change.
 */
@Injectable()
export class RuntimeSettings implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RuntimeSettings');
  private readonly seed: Settings;
  private snapshot: Readonly<Settings>;
  private version = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: SettingsStore,
    private readonly bus: MessageBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.seed = seedSettings(config);
    this.snapshot = frozen(seedSettings(config));
  }

  async onModuleInit(): Promise<void> {
    this.bus.subscribe(CHANNEL, (message) => this.onMessage(message));
    this.adopt(await this.store.loadOrSeed(this.seed));
    this.timer = setInterval(() => void this.refresh(), this.config.settings.refreshMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** The settings in force on this replica. Frozen: read it, never change it. */
  current(): Readonly<Settings> {
    return this.snapshot;
  }

  /** 503/50301 when an operator switched `feature` off: for code outside the guard chain. */
  assertOn(feature: FeatureName): void {
    if (!this.snapshot.switches[feature]) throw featureOff(feature);
  }

  /** Writes the change (audited as `actorId`), applies it here and tells every replica. */
  async update(actorId: number, patch: SettingsPatch): Promise<Readonly<Settings>> {
    const { changed, ...next } = await this.store.change(actorId, patch, this.seed);
    this.adopt(next);
    if (changed) {
      const sent = await this.bus.publish(CHANNEL, JSON.stringify(next));
      if (!sent) {
        this.logger.warn(
          `settings v${next.version} not broadcast: other replicas apply it within ${this.config.settings.refreshMs} ms`,
        );
      }
    }
    return this.snapshot;
  }

  /** The audit trail, newest first. */
  history(cursor: string | undefined, limit: number) {
    return this.store.changes(cursor, limit, this.seed);
  }

  /** Re-reads the database; what the bus lost is applied here. */
  async refresh(): Promise<void> {
    try {
      const stored = await this.store.load(this.seed);
      if (stored) this.adopt(stored);
    } catch (err) {
      // The database is away: keep the settings in force, try again next period.
      this.logger.warn(`settings re-read failed: ${(err as Error).message}`);
    }
  }

  private onMessage(message: string): void {
    let parsed: { version?: unknown; settings?: unknown };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      return;
    }
    if (
      !Number.isInteger(parsed.version) ||
      typeof parsed.settings !== 'object' ||
      parsed.settings === null
    )
      return;
    this.adopt({
      version: parsed.version as number,
      settings: decodeSettings(JSON.stringify(parsed.settings), this.seed),
    });
  }

  /** Applies a snapshot only if it is newer than ours. */
  private adopt(next: VersionedSettings): void {
    if (next.version <= this.version) return;
    this.version = next.version;
    this.snapshot = frozen(next.settings);
    this.logger.log(`settings v${next.version} in force`);
  }
}

export function featureOff(feature: FeatureName | 'writes'): AppError {
  return new AppError(
    'FEATURE_OFF',
    feature === 'writes'
      ? 'read-only: writes are switched off by an operator'
      : `${feature} switched off by an operator`,
  );
}
