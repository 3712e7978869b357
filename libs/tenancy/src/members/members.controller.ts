import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiExtension,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { AuditAction } from '@saasready/audit';
import { Permission, RequirePermission } from '@saasready/rbac';
import { decodeCursor, PAGE_LIMIT_DEFAULT, PageQueryDto, toPage } from '../common/pagination';
import { Actor, CurrentActor, CurrentOrg, OrgScope } from '@saasready/core';
import { uuidParam } from '../common/uuid-param.pipe';
import { MemberDto, MemberListDto, UpdateMemberDto } from './dto/member.dto';
import { MembersService } from './members.service';

const MEMBERS_CURSOR = 'members';

@ApiTags('members')
@Controller('orgs/:org_id/members')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @RequirePermission(Permission.UserRead)
  @Get()
  @ApiOperation({
    operationId: 'listMembers',
    summary: 'The members of an organization',
    description: 'In join order. Paged with `limit` (1..200, default 50) and the opaque `cursor` of the previous page.',
  })
  async list(@CurrentOrg() org: OrgScope, @Query() query: PageQueryDto): Promise<MemberListDto> {
    const limit = query.limit ?? PAGE_LIMIT_DEFAULT;
    const afterId = decodeCursor(MEMBERS_CURSOR, query.cursor);
    const rows = await this.members.list(org.orgId, { limit, afterId });
    return toPage(
      rows,
      limit,
      MEMBERS_CURSOR,
      (r) => r.key,
      (r) => r.member,
    );
  }

  @RequirePermission(Permission.UserManage)
  @Patch(':user_id')
  @ApiParam({ name: 'user_id', format: 'uuid' })
  @ApiExtension('x-audit-action', AuditAction.MemberRoleChanged) // written by MembersService.changeRole (only on a change)
  @ApiBadRequestResponse({ description: '`invalid_role`: `role_id` is not a role of this organization.' })
  @ApiForbiddenResponse({ description: '`permission_denied` when the new or the current role holds a permission the caller lacks.' })
  @ApiNotFoundResponse({ description: '`not_found`: no such member in this organization.' })
  @ApiConflictResponse({ description: '`last_owner`: the organization must keep at least one Owner.' })
  @ApiOperation({
    operationId: 'updateMember',
    summary: "Change a member's role",
    description:
      'The caller must hold every permission of the new role and of the member’s current role (403 permission_denied); ' +
      'a role not of this organization is 400 invalid_role; demoting the last Owner is 409 last_owner.',
  })
  updateRole(
    @CurrentOrg() org: OrgScope,
    @CurrentActor() actor: Actor,
    @Param('user_id', uuidParam('user_id')) userId: string,
    @Body() dto: UpdateMemberDto,
  ): Promise<MemberDto> {
    return this.members.changeRole(org.orgId, actor.userId, userId, dto.role_id.toLowerCase());
  }

  @RequirePermission(Permission.UserManage, { orSelf: 'user_id' })
  @Delete(':user_id')
  @HttpCode(204)
  @ApiParam({ name: 'user_id', format: 'uuid' })
  @ApiExtension('x-audit-action', [AuditAction.MemberRemoved, AuditAction.MemberLeft]) // written by MembersService.remove
  @ApiForbiddenResponse({ description: '`permission_denied` when the member’s role holds a permission the caller lacks.' })
  @ApiNotFoundResponse({ description: '`not_found`: no such member in this organization.' })
  @ApiConflictResponse({ description: '`last_owner`: the organization must keep at least one Owner.' })
  @ApiOperation({
    operationId: 'removeMember',
    summary: 'Remove a member, or leave (your own user id)',
    description:
      'Leaving needs no permission. Removing another member needs user.manage and every permission of their role. ' +
      'The last Owner cannot be removed or leave (409 last_owner). The member’s sessions scoped here become unscoped.',
  })
  async remove(
    @CurrentOrg() org: OrgScope,
    @CurrentActor() actor: Actor,
    @Param('user_id', uuidParam('user_id')) userId: string,
  ): Promise<void> {
    await this.members.remove(org.orgId, actor.userId, userId);
  }
}
