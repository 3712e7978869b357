import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsOptional, IsString, MaxLength, ValidateBy } from 'class-validator';
import { AppException, isUuid } from '@saasready/core';

export const PAGE_LIMIT_DEFAULT = 50;
export const PAGE_LIMIT_MAX = 200;

/** `?limit=` (1..200, default 50) and `?cursor=` (opaque, from the previous page's `next_cursor`). */
export class PageQueryDto {
  /** Page size, 1 to 200 (default 50). */
  // Declared by hand: the swagger CLI plugin reads only *.dto.ts files.
  @ApiPropertyOptional({
    description: 'Page size, 1 to 200 (default 50).',
    type: 'integer',
    minimum: 1,
    maximum: PAGE_LIMIT_MAX,
    default: PAGE_LIMIT_DEFAULT,
  })
  @IsOptional()
  @Type(() => Number)
  @ValidateBy({
    name: 'isPageLimit',
    validator: {
      validate: (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= PAGE_LIMIT_MAX,
      defaultMessage: () => `must be an integer from 1 to ${PAGE_LIMIT_MAX}`,
    },
  })
  limit?: number;

  /** The `next_cursor` of the previous page. */
  @ApiPropertyOptional({ description: 'The `next_cursor` of the previous page (opaque).', type: 'string', maxLength: 256 })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  cursor?: string;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/**
 * Keyset cursors: base64url of `v1:<list>:<last key>`. Opaque to clients; a cursor of another list, or
 * anything not made here, is 400 validation_failed.
 */
export function encodeCursor(list: string, key: string): string {
  return Buffer.from(`v1:${list}:${key}`, 'utf8').toString('base64url');
}

export function decodeCursor(list: string, cursor: string | undefined): string | null {
  if (cursor === undefined) return null;
  const raw = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const prefix = `v1:${list}:`;
  const key = raw.startsWith(prefix) ? raw.slice(prefix.length) : '';
  if (!isUuid(key)) throw AppException.validation([{ field: 'cursor', message: 'is not a valid cursor for this list' }]);
  return key.toLowerCase();
}

/** Rows fetched with `limit + 1`: the page and the cursor of its last row when more follow. */
export function toPage<R, T>(rows: R[], limit: number, list: string, keyOf: (row: R) => string, map: (row: R) => T): Page<T> {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  return { data: page.map(map), next_cursor: more ? encodeCursor(list, keyOf(page[page.length - 1])) : null };
}
