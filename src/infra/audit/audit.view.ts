import { z } from 'zod';
import { apiView, isoTime, pageOf, rowId } from '../../common/http/index.js';
import type { AuditEntryRecord } from './audit.log.js';

const snapshot = z.record(z.string(), z.unknown()).nullable().meta({
  description: 'the changed fields; null where there is nothing to show (a create has no before)',
});

/** One staff write of GET /admin/audit. */
export const auditEntryView = apiView(
  'AuditEntryView',
  z.strictObject({
    id: rowId(),
    actorId: rowId()
      .nullable()
      .meta({ description: "the staff user's id; null: the command line" }),
    action: z.string().meta({ example: 'order.ship' }),
    target: z.string().meta({ example: 'order:42' }),
    before: snapshot,
    after: snapshot,
    requestId: z.string().nullable().meta({ description: 'the X-Request-Id of the write' }),
    createdAt: isoTime(),
  }),
);
export type AuditEntryView = z.infer<typeof auditEntryView>;

export const auditPage = pageOf('AuditPage', auditEntryView);
export type AuditPage = z.infer<typeof auditPage>;

export function toAuditView(entry: AuditEntryRecord): AuditEntryView {
  return { ...entry, createdAt: entry.createdAt.toISOString() };
}
