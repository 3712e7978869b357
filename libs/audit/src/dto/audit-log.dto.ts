import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
/** A date (UTC midnight) or a date-time with `Z` or an offset: never the server's local time. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** One audit row, as every audit list, export and security-events route returns it. */
export class AuditLogDto {
  id: string;
  /** When it happened: ISO 8601, UTC. */
  timestamp: string;
  /** The signed-in user who acted; null for anonymous events (e.g. a failed login). */
  actor_id: string | null;
  /** The actor's email at the time (kept after the user is deleted); for a failed login, the email tried. */
  user_email: string | null;
  /** Dotted, past tense, e.g. `user.logged_in`. */
  action: string;
  /** `user`, `session`, `org`, `invitation`, `member`, `role` or `flag`. */
  target_type: string;
  target_id: string | null;
  /** The client address as seen through the trusted proxies (TRUST_PROXY). */
  ip_address: string | null;
  user_agent: string | null;
  /** Event details; secrets are never recorded. */
  metadata: Record<string, unknown>;
}

export class AuditLogListDto {
  data: AuditLogDto[];
  /** Pass as `?cursor=` for the next (older) page; null on the last page. */
  next_cursor: string | null;
}

export class AuditVerifyDto {
  /** True when every row's hash and link to the previous row hold. */
  valid: boolean;
  /** Rows examined, oldest first (on failure, up to and including the first invalid row). */
  checked: number;
  /** The oldest row whose hash or link does not hold; null when valid. */
  first_invalid_id: string | null;
}

export class PageQueryDto {
  /** Page size, 1 to 200 (default 50). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  /** The `next_cursor` of the previous page (opaque). */
  @IsOptional()
  @IsString()
  @MaxLength(400)
  cursor?: string;
}

export class AuditLogFilterDto {
  /** Only this action, e.g. `user.logged_in`. */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(ACTION, { message: 'action must be a dotted action name such as user.logged_in' })
  action?: string;

  /** Only rows of this actor (user id). */
  @IsOptional()
  @IsString()
  @Matches(UUID, { message: 'actor_id must be a UUID' })
  actor_id?: string;

  /** Rows at or after this instant (inclusive), ISO 8601 with `Z` or an offset. */
  @IsOptional()
  @IsString()
  @Matches(DATE_TIME, { message: 'since must be an ISO 8601 date or date-time with Z or an offset' })
  since?: string;

  /** Rows before this instant (exclusive), ISO 8601 with `Z` or an offset. */
  @IsOptional()
  @IsString()
  @Matches(DATE_TIME, { message: 'until must be an ISO 8601 date or date-time with Z or an offset' })
  until?: string;
}

export class ListAuditLogsQueryDto extends AuditLogFilterDto {
  /** Page size, 1 to 200 (default 50). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  /** The `next_cursor` of the previous page (opaque). */
  @IsOptional()
  @IsString()
  @MaxLength(400)
  cursor?: string;
}

export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export class ExportAuditLogsQueryDto extends AuditLogFilterDto {
  /** `ndjson` (default; application/x-ndjson, one row object a line) or `csv` (text/csv with a header row). */
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format?: ExportFormat;
}
