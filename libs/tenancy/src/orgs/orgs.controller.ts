import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiExtension, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Audit, AuditAction, AuditTargetType } from '@saasready/audit';
import { Actor, AppException, Authenticated, CurrentActor, CurrentOrg, ErrorCode, OrgScope } from '@saasready/core';
import { BuiltInRole, Permission, RequirePermission } from '@saasready/rbac';
import { decodeCursor, PAGE_LIMIT_DEFAULT, PageQueryDto, toPage } from '../common/pagination';
import { OrganizationService } from '../organization.service';
import { CreateOrgDto, OrgDto, OrgListDto, UpdateOrgDto } from './dto/org.dto';
import { toOrgDto } from './org.mapper';

const ORGS_CURSOR = 'orgs';

@ApiTags('organizations')
@Controller('orgs')
export class OrgsController {
  constructor(private readonly orgs: OrganizationService) {}

  @Authenticated()
  @Post()
  @HttpCode(201)
  @ApiConflictResponse({ description: '`slug_taken`: another organization has this slug.' })
  @ApiOperation({
    operationId: 'createOrg',
    summary: 'Create an organization; the caller becomes its Owner',
    description: "The caller's session stays scoped where it was (switch with POST /auth/switch-org).",
  })
  // The row belongs to the new org (its first row) and targets it. Not in createWithOwner: registration
  // creates the personal org with it and records user.registered instead.
  @Audit<OrgDto>(AuditAction.OrgCreated, {
    targetType: AuditTargetType.Org,
    orgId: (_req, org) => org.id,
    metadata: (_req, org) => ({ name: org.name, slug: org.slug }),
  })
  async create(@CurrentActor() actor: Actor, @Body() dto: CreateOrgDto): Promise<OrgDto> {
    const org = await this.orgs.createWithOwner({ name: dto.name, slug: dto.slug, metadata: dto.metadata }, actor.userId);
    return toOrgDto(org, BuiltInRole.Owner.name);
  }

  @Authenticated()
  @Get()
  @ApiOperation({
    operationId: 'listOrgs',
    summary: "The caller's organizations, each with the caller's role",
    description: 'Oldest first (by id). Paged with `limit` (1..200, default 50) and the opaque `cursor` of the previous page.',
  })
  async list(@CurrentActor() actor: Actor, @Query() query: PageQueryDto): Promise<OrgListDto> {
    const limit = query.limit ?? PAGE_LIMIT_DEFAULT;
    const afterId = decodeCursor(ORGS_CURSOR, query.cursor);
    const rows = await this.orgs.listForUser(actor.userId, { limit, afterId });
    return toPage(
      rows,
      limit,
      ORGS_CURSOR,
      (r) => r.org.id,
      (r) => toOrgDto(r.org, r.roleName),
    );
  }

  @RequirePermission(Permission.OrgRead)
  @Get(':org_id')
  @ApiOperation({ operationId: 'getOrg', summary: 'An organization' })
  async get(@CurrentOrg() scope: OrgScope): Promise<OrgDto> {
    const org = await this.orgs.findCached(scope.orgId);
    if (!org) throw AppException.notFound(ErrorCode.OrgNotFound, 'Organization not found.');
    return toOrgDto(org, scope.roleName);
  }

  @RequirePermission(Permission.OrgUpdate)
  @Patch(':org_id')
  @ApiExtension('x-audit-action', AuditAction.OrgUpdated) // written by OrganizationService.update (only on a change)
  @ApiConflictResponse({ description: '`slug_taken`: another organization has this slug.' })
  @ApiOperation({
    operationId: 'updateOrg',
    summary: "Change an organization's name, slug or metadata",
    description:
      '`metadata` replaces the stored object whole. A change writes `org.updated` (the fields changed); a request that changes nothing writes no audit row.',
  })
  async update(@CurrentOrg() scope: OrgScope, @Body() dto: UpdateOrgDto): Promise<OrgDto> {
    const org = await this.orgs.update(scope.orgId, { name: dto.name, slug: dto.slug, metadata: dto.metadata });
    return toOrgDto(org, scope.roleName);
  }

  @RequirePermission(Permission.OrgDelete)
  @Delete(':org_id')
  @HttpCode(204)
  @ApiExtension('x-audit-action', AuditAction.OrgDeleted) // written by OrganizationService.delete (with name and slug)
  @ApiOperation({
    operationId: 'deleteOrg',
    summary: 'Delete an organization',
    description:
      'Its memberships, custom roles, invitations, flags and keys go; sessions scoped to it become unscoped. ' +
      'Writes `org.deleted`; the audit rows of the organization stay in the database.',
  })
  async remove(@CurrentOrg() scope: OrgScope): Promise<void> {
    await this.orgs.delete(scope.orgId);
  }
}
