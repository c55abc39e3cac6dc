import type { ContentFlag } from './content-flag.entity.js';

/** A flag as GET /admin/content-flags shows it. */
export interface ContentFlagView {
  id: number;
  kind: ContentFlag['kind'];
  refId: number;
  userId: number;
  content: string;
  reason: ContentFlag['reason'];
  label: number | null;
  status: ContentFlag['status'];
  clearedBy: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface ContentFlagPage {
  items: ContentFlagView[];
  nextCursor: string | null;
}

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
