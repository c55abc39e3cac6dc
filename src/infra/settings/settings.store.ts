import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { idCursor } from '../../common/http/index.js';
import { recordAudit } from '../audit/index.js';
import { Transactions, isDuplicateKey } from '../transactions/index.js';
import { RuntimeSettingsRow, SETTINGS_ROW_ID } from './runtime-settings.entity.js';
import { SettingsChange } from './settings-change.entity.js';
import {
  applyPatch,
  decodeSettings,
  sameSettings,
  type Settings,
  type SettingsPatch,
} from './settings.model.js';

export interface VersionedSettings {
  version: number;
  settings: Settings;
}

export interface SettingsChangeRecord {
  id: number;
  actorId: number;
  version: number;
  before: Settings;
  after: Settings;
  createdAt: Date;
}

/** Two admins changed the settings at once: the loser starts over from the winner's. */
const CHANGE_ATTEMPTS = 5;

const cursor = idCursor('settings-change');

type Entries = Record<string, Record<string, unknown>>;

/** The entries of each section (`throttle.login`, `switches.orders`…) that differ, before and after. */
function changedEntries(before: Settings, after: Settings): { before: Entries; after: Entries } {
  const was: Entries = {};
  const now: Entries = {};
  for (const section of ['throttle', 'switches'] as const) {
    const old = before[section] as Record<string, unknown>;
    const fresh = after[section] as Record<string, unknown>;
    for (const key of Object.keys(fresh)) {
      if (JSON.stringify(old[key]) === JSON.stringify(fresh[key])) continue;
      (was[section] ??= {})[key] = old[key];
      (now[section] ??= {})[key] = fresh[key];
    }
  }
  return { before: was, after: now };
}

/**
 * The settings row and its audit trail in the database, the source of truth.
 * Every read is on the primary (inside a transaction): a lagging replica
 * would hand a replica an older version than the bus already did.
 */
@Injectable()
export class SettingsStore {
  constructor(private readonly tx: Transactions) {}

  /** The stored settings; on a fresh database, `seed` is written first (once, whoever boots first). */
  async loadOrSeed(seed: Settings): Promise<VersionedSettings> {
    const found = await this.load(seed);
    if (found) return found;
    try {
      await this.tx.run((m) =>
        m.insert(RuntimeSettingsRow, {
          id: SETTINGS_ROW_ID,
          version: 1,
          value: JSON.stringify(seed),
        }),
      );
      return { version: 1, settings: seed };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const winner = await this.load(seed);
    if (!winner) throw new Error('runtime settings row vanished while seeding');
    return winner;
  }

  async load(fallback: Settings): Promise<VersionedSettings | undefined> {
    return this.tx.run((m) => this.read(m, fallback));
  }

  /**
   * Applies `patch` over the stored settings and records who did it, in one
   * transaction, written only over the version it was computed from. A patch
   * that changes nothing writes nothing (`changed` false).
   */
  async change(
    actorId: number,
    patch: SettingsPatch,
    fallback: Settings,
  ): Promise<VersionedSettings & { changed: boolean }> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.tx.run(async (m) => {
        const current = await this.read(m, fallback);
        if (!current) throw new Error('runtime settings are not seeded');
        const after = applyPatch(current.settings, patch);
        if (sameSettings(after, current.settings)) return { ...current, changed: false };
        const version = current.version + 1;
        const written = await m.update(
          RuntimeSettingsRow,
          { id: SETTINGS_ROW_ID, version: current.version },
          { version, value: JSON.stringify(after) },
        );
        if (written.affected !== 1) return undefined;
        const change = await m.insert(SettingsChange, {
          actorId,
          version,
          before: JSON.stringify(current.settings),
          after: JSON.stringify(after),
        });
        // The staff-wide log gets the changed entries only; settings_changes
        // keeps the whole settings of every version for GET /admin/settings/audit.
        await recordAudit(m, {
          actorId,
          action: 'settings.update',
          target: `settings_change:${Number(change.identifiers[0].id)}`,
          ...changedEntries(current.settings, after),
        });
        return { version, settings: after, changed: true };
      });
      if (outcome) return outcome;
      if (attempt >= CHANGE_ATTEMPTS) throw new Error('runtime settings kept changing under us');
    }
  }

  /** Newest first, `limit` per page. */
  async changes(
    after: string | undefined,
    limit: number,
    fallback: Settings,
  ): Promise<{ items: SettingsChangeRecord[]; nextCursor: string | null }> {
    const before = cursor.decode(after);
    const rows = await this.tx.read((m) => {
      const query = m
        .createQueryBuilder(SettingsChange, 'c')
        .orderBy('c.id', 'DESC')
        .take(limit + 1);
      if (before !== undefined) query.where('c.id < :before', { before });
      return query.getMany();
    });
    const page = rows.slice(0, limit);
    return {
      items: page.map((row) => ({
        id: row.id,
        actorId: row.actorId,
        version: row.version,
        before: decodeSettings(row.before, fallback),
        after: decodeSettings(row.after, fallback),
        createdAt: row.createdAt,
      })),
      nextCursor: rows.length > limit ? cursor.encode(page[page.length - 1].id) : null,
    };
  }

  private async read(m: EntityManager, fallback: Settings): Promise<VersionedSettings | undefined> {
    const row = await m.findOneBy(RuntimeSettingsRow, { id: SETTINGS_ROW_ID });
    return row
      ? { version: row.version, settings: decodeSettings(row.value, fallback) }
      : undefined;
  }
}
