import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { AppError, validationError } from '../errors/index.js';

/** Largest value of the INTEGER columns (ids, prices, stock, totals). */
export const MAX_INT = 2_147_483_647;

/** docs/http-api.md: list endpoints take `limit` 1-100, 20 by default. */
export const DEFAULT_PAGE_SIZE = 20;

/** `?cursor=&limit=` of every list endpoint. */
export class PageQuery {
  @ApiPropertyOptional({ description: 'opaque, from the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  cursor?: string;

  @ApiPropertyOptional({ default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}

export interface IdCursor {
  encode(lastId: number): string;
  /** The id the page continues from; undefined for the first page. 400 for a forged one. */
  decode(cursor: string | undefined): number | undefined;
}

/**
 * Cursors of id-ordered lists: the last id of the previous page, wrapped so
 * that clients treat it as opaque and the encoding can change without
 * breaking them. Each list has its own tag, so one list's cursor is refused
 * by another.
 */
export function idCursor(tag: string): IdCursor {
  const pattern = new RegExp(`^${tag}:([1-9]\\d{0,9})$`);
  return {
    encode: (lastId) => Buffer.from(`${tag}:${lastId}`).toString('base64url'),
    decode(cursor) {
      if (cursor === undefined || cursor === '') return undefined;
      const text = /^[A-Za-z0-9_-]+$/.test(cursor)
        ? Buffer.from(cursor, 'base64url').toString()
        : '';
      const id = Number(pattern.exec(text)?.[1] ?? NaN);
      if (!(id <= MAX_INT)) {
        throw validationError([{ field: 'cursor', message: 'cursor is not valid' }]);
      }
      return id;
    },
  };
}

/** What a path id may look like; parseId answers 404 past MAX_INT. */
export const ID_PATTERN = /^\d{1,20}$/;

/**
 * A path id: digits only, so "abc" or "1.5" is a 400; a number no row can
 * have is a 404 for `what` (no query needed to know it is missing).
 */
export function parseId(raw: string, what: string): number {
  if (!ID_PATTERN.test(raw)) {
    throw validationError([{ field: 'id', message: 'id must be a positive integer' }]);
  }
  const id = Number(raw);
  if (id < 1 || id > MAX_INT) throw new AppError('NOT_FOUND', `${what} not found`);
  return id;
}
