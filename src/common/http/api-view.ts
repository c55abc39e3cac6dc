import { z } from 'zod';
import { MAX_INT } from './pagination.js';

/**
 * The schemas of what routes answer (`data` of the envelope). A view is
 * written once, as a zod schema: its TypeScript type is inferred from it and
 * the OpenAPI document is generated from it, so the two cannot disagree.
 */
export const apiViews = z.registry<{ id: string }>();

/** Registers `schema` as the OpenAPI component `id` (referenced, not repeated). */
export function apiView<T extends z.ZodType>(id: string, schema: T): T {
  apiViews.add(schema, { id });
  return schema;
}

/** A row id: the INTEGER columns' range. */
export const rowId = () => z.int().min(1).max(MAX_INT).meta({ example: 7 });

/** A non-negative amount or count stored in an INTEGER column. */
export const intColumn = () => z.int().min(0).max(MAX_INT);

/** Times in answers are ISO 8601 UTC (docs/http-api.md). */
export const isoTime = () => z.iso.datetime().meta({ example: '2026-01-01T08:00:00.000Z' });

/** `{ items, nextCursor }` of every list endpoint; `nextCursor` is null on the last page. */
export function pageOf<T extends z.ZodType>(id: string, item: T) {
  return apiView(
    id,
    z.strictObject({
      items: z.array(item),
      nextCursor: z.string().nullable().meta({ description: 'null on the last page' }),
    }),
  );
}
