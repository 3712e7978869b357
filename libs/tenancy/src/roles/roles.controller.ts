import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiExtension,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { Audit, AuditAction, AuditTargetType } from '@saasready/audit';
import { Permission, RequirePermission } from '@saasready/rbac';
import { Actor, CurrentActor, CurrentOrg, OrgScope } from '@saasready/core';
import { uuidParam } from '../common/uuid-param.pipe';
import { CreateRoleDto, RoleDto, RoleListDto, UpdateRoleDto } from './dto/role.dto';
import { OrgRolesService } from './org-roles.service';

@ApiTags('roles')
@Controller('orgs/:org_id/roles')
export class RolesController {
  constructor(private readonly roles: OrgRolesService) {}

  @RequirePermission(Permission.OrgRead)
  @Get()
  @ApiOperation({ operationId: 'listRoles', summary: 'Built-in and custom roles of an organization' })
  async list(@CurrentOrg() org: OrgScope): Promise<RoleListDto> {
    return { data: await this.roles.list(org.orgId), next_cursor: null };
  }

  @RequirePermission(Permission.RoleManage)
  @Post()
  @HttpCode(201)
  @ApiForbiddenResponse({ description: '`permission_denied` when the role holds a permission the caller lacks.' })
  @ApiConflictResponse({
    description: '`role_name_taken`: a role of this organization has this name (case-insensitively), or it is a built-in name.',
  })
  @ApiOperation({
    operationId: 'createRole',
    summary: 'Create a custom role',
    description: 'The caller must hold every permission of the role (403 permission_denied).',
  })
  @Audit<RoleDto>(AuditAction.RoleCreated, {
    targetType: AuditTargetType.Role,
    targetId: (_req, role) => role.id,
    metadata: (_req, role) => ({ name: role.name, permissions: role.permissions }),
  })
  create(@CurrentOrg() org: OrgScope, @CurrentActor() actor: Actor, @Body() dto: CreateRoleDto): Promise<RoleDto> {
    return this.roles.create(org.orgId, actor.userId, dto);
  }

  @RequirePermission(Permission.RoleManage)
  @Patch(':role_id')
  @ApiParam({ name: 'role_id', format: 'uuid' })
  @ApiExtension('x-audit-action', AuditAction.RoleUpdated) // written by OrgRolesService.update (only on a change)
  @ApiForbiddenResponse({ description: '`permission_denied` when the role has or would have a permission the caller lacks.' })
  @ApiNotFoundResponse({ description: '`not_found`: no such role in this organization.' })
  @ApiConflictResponse({ description: '`builtin_role`: built-in roles cannot change. `role_name_taken`: the name is in use.' })
  @ApiOperation({
    operationId: 'updateRole',
    summary: 'Change a custom role',
    description:
      'Built-in roles: 409 builtin_role. The caller must hold every permission the role has and will have (403). ' +
      'Members holding the role get the change on their next request.',
  })
  update(
    @CurrentOrg() org: OrgScope,
    @CurrentActor() actor: Actor,
    @Param('role_id', uuidParam('role_id')) roleId: string,
    @Body() dto: UpdateRoleDto,
  ): Promise<RoleDto> {
    return this.roles.update(org.orgId, actor.userId, roleId, dto);
  }

  @RequirePermission(Permission.RoleManage)
  @Delete(':role_id')
  @HttpCode(204)
  @ApiParam({ name: 'role_id', format: 'uuid' })
  @ApiExtension('x-audit-action', AuditAction.RoleDeleted) // written by OrgRolesService.delete (with name and permissions)
  @ApiNotFoundResponse({ description: '`not_found`: no such role in this organization.' })
  @ApiConflictResponse({ description: '`role_in_use`: a member or a pending invitation holds it. `builtin_role`: built-in roles stay.' })
  @ApiOperation({
    operationId: 'deleteRole',
    summary: 'Delete a custom role no member or pending invitation holds',
    description: 'Held: 409 role_in_use. Built-in: 409 builtin_role.',
  })
  async remove(
    @CurrentOrg() org: OrgScope,
    @CurrentActor() actor: Actor,
    @Param('role_id', uuidParam('role_id')) roleId: string,
  ): Promise<void> {
    await this.roles.delete(org.orgId, actor.userId, roleId);
  }
}
