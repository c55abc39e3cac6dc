import { z } from 'zod';
import { apiView, intColumn, isoTime, pageOf, rowId } from '../../common/http/index.js';
import type { ContentFlag } from './content-flag.entity.js';

/** A flag as GET /admin/content-flags shows it. */
export const contentFlagView = apiView(
  'ContentFlagView',
  z.strictObject({
    id: rowId(),
    kind: z.enum(['nickname', 'order_remark', 'avatar']),
    /** The user id of a nickname or avatar, the order id of a remark. */
    refId: rowId(),
    userId: rowId(),
    content: z.string(),
    reason: z.enum(['review', 'unchecked', 'risky']),
    label: intColumn().nullable().meta({ example: 20001 }),
    status: z.enum(['open', 'cleared']),
    clearedBy: rowId().nullable(),
    createdAt: isoTime(),
    updatedAt: isoTime(),
  }),
);
export type ContentFlagView = z.infer<typeof contentFlagView>;

export const contentFlagPage = pageOf('ContentFlagPage', contentFlagView);
export type ContentFlagPage = z.infer<typeof contentFlagPage>;

export function toFlagView(flag: ContentFlag): ContentFlagView {
  return {
    id: flag.id,
    kind: flag.kind,
    refId: flag.refId,
    userId: flag.userId,
    content: flag.content,
    reason: flag.reason,
    label: flag.label,
    status: flag.status,
    clearedBy: flag.clearedBy,
    createdAt: flag.createdAt.toISOString(),
    updatedAt: flag.updatedAt.toISOString(),
  };
}
