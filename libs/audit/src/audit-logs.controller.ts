import { Controller, Get, Header, Param, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Readable } from 'node:stream';
import { Actor, AppException, Authenticated, CurrentActor } from '@saasready/core';
import { RequireAuditRead } from './audit.decorator';
import { AuditFilters, AuditListRow, AuditScope, AuditService } from './audit.service';
import { csvLine } from './csv';
import { decodeCursor, encodeCursor } from './cursor';
import {
  AuditLogDto,
  AuditLogFilterDto,
  AuditLogListDto,
  AuditVerifyDto,
  ExportAuditLogsQueryDto,
  ListAuditLogsQueryDto,
  PageQueryDto,
} from './dto/audit-log.dto';

/** The list fields, in the order of the API (and of the CSV columns). */
export const AUDIT_LOG_FIELDS = [
  'id',
  'timestamp',
  'actor_id',
  'user_email',
  'action',
  'target_type',
  'target_id',
  'ip_address',
  'user_agent',
  'metadata',
] as const satisfies readonly (keyof AuditLogDto)[];

const DEFAULT_LIMIT = 50;

export function toAuditLogDto(row: AuditListRow): AuditLogDto {
  return {
    id: row.id,
    timestamp: row.timestamp.toISOString(),
    actor_id: row.actorId,
    user_email: row.userEmail,
    action: row.action,
    target_type: row.targetType,
    target_id: row.targetId,
    ip_address: row.ipAddress,
    user_agent: row.userAgent,
    metadata: row.metadata,
  };
}

function filtersOf(q: AuditLogFilterDto): AuditFilters {
  return { action: q.action, actorId: q.actor_id, since: instant(q.since, 'since'), until: instant(q.until, 'until') };
}

function instant(value: string | undefined, field: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw AppException.validation([{ field, message: `${field} is not a valid date-time` }]);
  return d;
}

async function listPage(audit: AuditService, scope: AuditScope, filters: AuditFilters, q: PageQueryDto): Promise<AuditLogListDto> {
  const cursor = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
  const { rows, next } = await audit.page(scope, filters, q.limit ?? DEFAULT_LIMIT, cursor);
  return { data: rows.map(toAuditLogDto), next_cursor: next ? encodeCursor(next) : null };
}

@ApiTags('audit')
@Controller('orgs/:org_id/audit-logs')
export class AuditLogsController {
  constructor(private readonly audit: AuditService) {}

  @RequireAuditRead()
  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'listAuditLogs',
    summary: "The organization's audit log, newest first",
    description: 'Filters: `action`, `actor_id`, `since` (inclusive), `until` (exclusive). Cursor-paged: pass `next_cursor` as `?cursor=`.',
  })
  listAuditLogs(@Param('org_id') orgId: string, @Query() q: ListAuditLogsQueryDto): Promise<AuditLogListDto> {
    return listPage(this.audit, { orgId: orgId.toLowerCase() }, filtersOf(q), q);
  }

  @RequireAuditRead()
  @Get('export')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'exportAuditLogs',
    summary: 'Export the audit log (streamed)',
    description:
      '`format=ndjson` (default): `application/x-ndjson`, one list object a line. `format=csv`: `text/csv`, a header row, ' +
      'the list fields in their order, `metadata` as JSON; cells are quoted and a cell a spreadsheet would run as a ' +
      'formula (starting with `=`, `+`, `-`, `@`, tab or CR) is prefixed with a single quote. Same filters as the list; newest first.',
  })
  @ApiProduces('application/x-ndjson', 'text/csv')
  @ApiOkResponse({ schema: { type: 'string' } })
  async exportAuditLogs(@Param('org_id') orgId: string, @Query() q: ExportAuditLogsQueryDto): Promise<StreamableFile> {
    const format = q.format ?? 'ndjson';
    const filters = filtersOf(q);
    // The first batch is read before the status line goes out, so a failing query is still a problem+json 500.
    const batches = await prefetched(this.audit.iterate({ orgId: orgId.toLowerCase() }, filters));
    const file = `audit-logs-${orgId.toLowerCase()}.${format === 'csv' ? 'csv' : 'ndjson'}`;
    const stream = Readable.from(format === 'csv' ? csvChunks(batches) : ndjsonChunks(batches));
    return new StreamableFile(stream, {
      type: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      disposition: `attachment; filename="${file}"`,
    });
  }

  @RequireAuditRead()
  @Get('verify')
  @ApiOperation({
    operationId: 'verifyAuditLogs',
    summary: "Walk the organization's hash chain",
    description:
      'Checks, oldest row first, that each row hashes to its stored hash and links to the row before. The oldest kept ' +
      'row (retention deletes older ones) is the anchor. `checked`: rows examined; `first_invalid_id`: the first row that fails.',
  })
  async verifyAuditLogs(@Param('org_id') orgId: string): Promise<AuditVerifyDto> {
    const r = await this.audit.verify(orgId.toLowerCase());
    return { valid: r.valid, checked: r.checked, first_invalid_id: r.firstInvalidId };
  }
}

/** Reads the first item now; the returned iterable yields it, then the rest, as they are read. */
async function prefetched<T>(source: AsyncGenerator<T>): Promise<AsyncIterable<T>> {
  const first = await source.next();
  return (async function* () {
    if (first.done) return;
    yield first.value;
    yield* source;
  })();
}

async function* ndjsonChunks(batches: AsyncIterable<AuditListRow[]>): AsyncGenerator<string> {
  for await (const rows of batches) yield rows.map((r) => `${JSON.stringify(toAuditLogDto(r))}\n`).join('');
}

async function* csvChunks(batches: AsyncIterable<AuditListRow[]>): AsyncGenerator<string> {
  yield `${AUDIT_LOG_FIELDS.join(',')}\r\n`;
  for await (const rows of batches) {
    yield rows
      .map((r) => {
        const dto = toAuditLogDto(r);
        return csvLine(AUDIT_LOG_FIELDS.map((f) => (f === 'metadata' ? JSON.stringify(dto.metadata) : dto[f])));
      })
      .join('');
  }
}

@ApiTags('auth')
@Controller('auth/security-events')
export class SecurityEventsController {
  constructor(private readonly audit: AuditService) {}

  @Authenticated()
  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'listSecurityEvents',
    summary: "The caller's security events, across organizations, newest first",
    description:
      'Every audit row whose actor is the caller or whose target is the caller (target_type `user` or `member` with the ' +
      "caller's id), e.g. sign-ins, failed sign-ins against the account, sessions ended. Cursor-paged.",
  })
  listSecurityEvents(@CurrentActor() actor: Actor, @Query() q: PageQueryDto): Promise<AuditLogListDto> {
    return listPage(this.audit, { subjectUserId: actor.userId }, {}, q);
  }
}
