import { Injectable } from '@nestjs/common';
import { AuditAction, AuditService, AuditTargetType } from '@saasready/audit';
import { AppException, ErrorCode, TransactionService } from '@saasready/core';
import {
  assertCanEditRole,
  assertCanGrant,
  CustomRoleInput,
  normalizePermissions,
  Permission,
  RoleEntity,
  RoleService,
  sortPermissions,
} from '@saasready/rbac';
import { OrgLockService } from '../org-lock.service';
import { RoleDto } from './dto/role.dto';

/**
 * Custom roles of one org. The rules of a role itself live in libs/rbac (RoleService); this adds the
 * org's: the org row lock (serializes with membership changes, so "in use" is exact), the caller's role
 * re-read under it, and the grant rules (nobody creates or edits a role beyond their own permissions).
 */
@Injectable()
export class OrgRolesService {
  constructor(
    private readonly tx: TransactionService,
    private readonly lock: OrgLockService,
    private readonly roles: RoleService,
    private readonly audit: AuditService,
  ) {}

  async list(orgId: string): Promise<RoleDto[]> {
    return (await this.roles.listForOrg(orgId)).map(toRoleDto);
  }

  async create(orgId: string, actorId: string, input: CustomRoleInput): Promise<RoleDto> {
    return this.tx.run(async () => {
      const actor = await this.lock.acquire(orgId, actorId, Permission.RoleManage);
      const permissions = normalizePermissions(input.permissions);
      assertCanGrant(actor.role.permissions, permissions);
      return toRoleDto(await this.roles.createCustom(orgId, { ...input, permissions }));
    });
  }

  /**
   * A change writes `role.updated` (the fields changed, the role's name and permissions after, and the
   * old name and permissions when they changed) in the same transaction; a request that changes nothing
   * writes nothing. (`role.created` is written by @Audit on the route.)
   */
  async update(orgId: string, actorId: string, roleId: string, patch: Partial<CustomRoleInput>): Promise<RoleDto> {
    return this.tx.run(async () => {
      const actor = await this.lock.acquire(orgId, actorId, Permission.RoleManage);
      const role = await this.findCustom(orgId, roleId);
      const after = patch.permissions === undefined ? [] : normalizePermissions(patch.permissions);
      assertCanEditRole(actor.role.permissions, role.permissions, after);
      const before = toRoleDto(role);
      const updated = toRoleDto(await this.roles.updateCustom(role, patch));
      const nameChanged = updated.name !== before.name;
      const permissionsChanged = updated.permissions.join(',') !== before.permissions.join(',');
      const fields = [
        ...(nameChanged ? ['name'] : []),
        ...(updated.description !== before.description ? ['description'] : []),
        ...(permissionsChanged ? ['permissions'] : []),
      ];
      if (fields.length > 0) {
        await this.audit.record({
          action: AuditAction.RoleUpdated,
          targetType: AuditTargetType.Role,
          targetId: role.id,
          actorId,
          orgId,
          metadata: {
            fields,
            name: updated.name,
            permissions: updated.permissions,
            ...(nameChanged ? { old_name: before.name } : {}),
            ...(permissionsChanged ? { old_permissions: before.permissions } : {}),
          },
        });
      }
      return updated;
    });
  }

  /** Writes `role.deleted` (with the role's name and permissions) in the same transaction. */
  async delete(orgId: string, actorId: string, roleId: string): Promise<void> {
    await this.tx.run(async () => {
      const actor = await this.lock.acquire(orgId, actorId, Permission.RoleManage);
      const role = await this.findCustom(orgId, roleId);
      assertCanEditRole(actor.role.permissions, role.permissions);
      await this.roles.deleteCustom(role);
      await this.audit.record({
        action: AuditAction.RoleDeleted,
        targetType: AuditTargetType.Role,
        targetId: role.id,
        actorId,
        orgId,
        metadata: { name: role.name, permissions: sortPermissions(role.permissions) },
      });
    });
  }

  /** A role of this org (404 not_found otherwise, also for another org's role); built-ins are 409 builtin_role. */
  private async findCustom(orgId: string, roleId: string): Promise<RoleEntity> {
    const role = await this.roles.findInOrg(roleId, orgId);
    if (!role) throw AppException.notFound(ErrorCode.NotFound, 'No such role in this organization.');
    if (role.isSystem || role.orgId === null)
      throw AppException.conflict(ErrorCode.BuiltinRole, 'Built-in roles cannot be changed or deleted.');
    return role;
  }
}

export function toRoleDto(r: RoleEntity): RoleDto {
  return { id: r.id, name: r.name, description: r.description, permissions: sortPermissions(r.permissions), is_system: r.isSystem };
}
