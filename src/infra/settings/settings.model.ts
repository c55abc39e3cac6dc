import { isIntUpTo } from '../../common/http/index.js';
import type { AppConfig, ThrottleName } from '../../config/index.js';

/** The named limits an operator can change at run time (the throttle guard's names). */
export const THROTTLE_NAMES = [
  'default',
  'login',
  'orders',
  'flash',
] as const satisfies readonly ThrottleName[];

/** Features an operator can switch off, and `readOnly`, which refuses writes. */
export const SWITCH_NAMES = ['orders', 'flashSales', 'payments', 'readOnly'] as const;
export type SwitchName = (typeof SWITCH_NAMES)[number];
/** The switches that gate routes (`readOnly` gates every write instead). */
export type FeatureName = Exclude<SwitchName, 'readOnly'>;

/** Requests per `ttl` seconds per client. */
export interface ThrottleLimit {
  limit: number;
  ttl: number;
}

/** What GET /admin/settings answers and every replica holds in memory. */
export interface Settings {
  throttle: Record<ThrottleName, ThrottleLimit>;
  switches: Record<SwitchName, boolean>;
}

/** PUT /admin/settings: any part of the settings, the rest unchanged. */
export interface SettingsPatch {
  throttle?: Partial<Record<ThrottleName, Partial<ThrottleLimit>>>;
  switches?: Partial<Record<SwitchName, boolean>>;
}

/** Bounds of a limit's fields: a limit of 0 would refuse everything; a day is the longest window. */
export const MAX_LIMIT = 1_000_000_000;
export const MAX_TTL_S = 86_400;

/** What a fresh database starts with: the THROTTLE_* env values and every feature on. */
export function seedSettings(config: AppConfig): Settings {
  const throttle = {} as Settings['throttle'];
  for (const name of THROTTLE_NAMES) {
    const { limit, ttlSeconds } = config.throttle.limits[name];
    throttle[name] = { limit, ttl: ttlSeconds };
  }
  return {
    throttle,
    switches: { orders: true, flashSales: true, payments: true, readOnly: false },
  };
}

/** A new Settings (sharing nothing with `base`) with what `patch` names changed. */
export function applyPatch(base: Settings, patch: SettingsPatch): Settings {
  const throttle = {} as Settings['throttle'];
  for (const name of THROTTLE_NAMES) {
    throttle[name] = { ...base.throttle[name], ...definedOnly(patch.throttle?.[name] ?? {}) };
  }
  return { throttle, switches: { ...base.switches, ...definedOnly(patch.switches ?? {}) } };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Settings as stored (JSON), field by field: what is missing or invalid takes
 * the fallback, so a name added by a later release starts at its env value
 * in a database written by an earlier one.
 */
export function decodeSettings(json: string, fallback: Settings): Settings {
  let stored: {
    throttle?: Record<string, Record<string, unknown>>;
    switches?: Record<string, unknown>;
  };
  try {
    stored = JSON.parse(json) as typeof stored;
  } catch {
    return fallback;
  }
  const settings = applyPatch(fallback, {});
  for (const name of THROTTLE_NAMES) {
    const entry = stored?.throttle?.[name];
    if (isIntUpTo(entry?.limit, MAX_LIMIT) && isIntUpTo(entry?.ttl, MAX_TTL_S)) {
      settings.throttle[name] = { limit: entry.limit, ttl: entry.ttl };
    }
  }
  for (const name of SWITCH_NAMES) {
    const value = stored?.switches?.[name];
    if (typeof value === 'boolean') settings.switches[name] = value;
  }
  return settings;
}

export function sameSettings(a: Settings, b: Settings): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A deep-frozen copy: the snapshot handed to hot paths must not be changed by a caller. */
export function frozen(settings: Settings): Readonly<Settings> {
  for (const name of THROTTLE_NAMES) Object.freeze(settings.throttle[name]);
  Object.freeze(settings.throttle);
  Object.freeze(settings.switches);
  return Object.freeze(settings);
}
