import { Transform } from 'class-transformer';
import { IsOptional, IsString, Matches, MaxLength, MinLength, ValidateBy, ValidateIf, ValidationOptions } from 'class-validator';
import { SLUG_RE } from '../../slug';

export const METADATA_MAX_BYTES = 16_384;
export const ORG_NAME_MAX = 200;

/** A JSON object (not an array, not null) whose compact UTF-8 JSON form is at most `maxBytes`. */
export function IsJsonObjectWithin(maxBytes: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isJsonObjectWithin',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Buffer.byteLength(JSON.stringify(value), 'utf8') <= maxBytes,
        defaultMessage: () => `must be a JSON object of at most ${maxBytes} bytes (compact UTF-8 JSON)`,
      },
    },
    options,
  );
}

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateOrgDto {
  /** Display name, 1 to 200 characters (trimmed). */
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(ORG_NAME_MAX)
  name: string;

  /** 3 to 64 of `a-z`, `0-9`, `-`, not starting or ending with `-`; unique. Derived from the name when absent. */
  @IsOptional()
  @IsString()
  @Matches(SLUG_RE, { message: 'must match ^[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])$' })
  slug?: string;

  /** Free-form JSON object for the host application, at most 16,384 bytes as compact JSON. */
  @ValidateIf((o: { metadata?: unknown }) => o.metadata !== undefined) // null is not "absent": it is refused
  @IsJsonObjectWithin(METADATA_MAX_BYTES)
  metadata?: Record<string, unknown>;
}

export class UpdateOrgDto {
  /** Display name, 1 to 200 characters (trimmed). */
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(ORG_NAME_MAX)
  name?: string;

  /** A new unique slug (409 slug_taken when another org holds it). */
  @IsOptional()
  @IsString()
  @Matches(SLUG_RE, { message: 'must match ^[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])$' })
  slug?: string;

  /** Replaces the whole metadata object (send `{}` to clear it). */
  @ValidateIf((o: { metadata?: unknown }) => o.metadata !== undefined) // null is not "absent": it is refused
  @IsJsonObjectWithin(METADATA_MAX_BYTES)
  metadata?: Record<string, unknown>;
}

export class OrgDto {
  id: string;
  name: string;
  slug: string;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  /** The caller's role name in this organization. */
  your_role: string;
}

export class OrgListDto {
  data: OrgDto[];
  /** Pass as `?cursor=` for the next page; null on the last page. */
  next_cursor: string | null;
}
