import { z } from 'zod';
import { apiView, isoTime, pageOf, rowId } from '../../common/http/index.js';
import { MAX_LIMIT, MAX_TTL_S } from './settings.model.js';
import type { SettingsChangeRecord } from './settings.store.js';

const limit = apiView(
  'ThrottleLimitView',
  z.strictObject({
    limit: z.int().min(1).max(MAX_LIMIT).meta({ description: 'requests per window per client' }),
    ttl: z.int().min(1).max(MAX_TTL_S).meta({ description: 'window in seconds' }),
  }),
);

/** GET/PUT /admin/settings. */
export const settingsView = apiView(
  'SettingsView',
  z.strictObject({
    throttle: z.strictObject({ default: limit, login: limit, orders: limit, flash: limit }),
    switches: z.strictObject({
      orders: z.boolean(),
      flashSales: z.boolean(),
      payments: z.boolean(),
      readOnly: z.boolean(),
    }),
  }),
);
export type SettingsView = z.infer<typeof settingsView>;

/** One change of the audit trail: who, when, the whole settings before and after. */
export const settingsChangeView = apiView(
  'SettingsChangeView',
  z.strictObject({
    id: rowId(),
    /** The admin's user id. */
    actorId: rowId(),
    /** The settings version the change produced. */
    version: z.int().min(2),
    before: settingsView,
    after: settingsView,
    createdAt: isoTime(),
  }),
);
export type SettingsChangeView = z.infer<typeof settingsChangeView>;

export const settingsChangePage = pageOf('SettingsChangePage', settingsChangeView);
export type SettingsChangePage = z.infer<typeof settingsChangePage>;

export function toChangeView(change: SettingsChangeRecord): SettingsChangeView {
  return { ...change, createdAt: change.createdAt.toISOString() };
}
