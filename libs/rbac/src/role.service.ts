import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppException, Clock, ErrorCode, InvalidationBus, newId, TransactionService, TtlCache } from '@saasready/core';
import { RoleEntity } from './role.entity';
import { isBuiltInRoleName, normalizePermissions, normalizeRoleName } from './role-rules';
import { RoleUsageRegistry } from './role-usage';

export interface ResolvedRole {
  id: string;
  orgId: string | null;
  name: string;
  permissions: ReadonlySet<string>;
  isSystem: boolean;
}

export interface CustomRoleInput {
  name: string;
  description?: string;
  permissions: readonly string[];
}

/**
 * Roles: cached look-ups for the hot path (invalidated across instances when a role changes) and the
 * writes of custom roles. Every query that takes an org is scoped by it: a role of another org is not found.
 * Grant rules and the org row lock are the caller's (tenancy) business; the rules of a role itself
 * (built-ins are read-only, names are unique and not built-in, permissions are known) are here.
 */
@Injectable()
export class RoleService implements OnModuleInit {
  static readonly TOPIC = 'role';
  private readonly cache = new TtlCache<ResolvedRole | null>(20_000, 5 * 60_000);

  constructor(
    private readonly tx: TransactionService,
    private readonly bus: InvalidationBus,
    private readonly clock: Clock,
    private readonly usage: RoleUsageRegistry,
  ) {}

  onModuleInit(): void {
    this.bus.on(RoleService.TOPIC, (id) => (id === '*' ? this.cache.clear() : this.cache.delete(id)));
  }

  async get(roleId: string): Promise<ResolvedRole | null> {
    return this.cache.fill(
      roleId,
      async () => {
        const row = await this.tx.repo(RoleEntity).findOne({ where: { id: roleId } });
        return row ? toResolved(row) : null;
      },
      // Inside a transaction the row may not be committed: do not cache what others cannot see yet.
      !this.tx.inTransaction(),
    );
  }

  /** A role usable in `orgId`: built-in, or custom to that org. */
  async getForOrg(roleId: string, orgId: string): Promise<ResolvedRole | null> {
    const role = await this.get(roleId);
    return role && (role.orgId === null || role.orgId === orgId) ? role : null;
  }

  async invalidate(roleId: string): Promise<void> {
    await this.tx.afterCommit(() => this.bus.publish(RoleService.TOPIC, roleId));
  }

  /** Built-ins (Owner, Admin, Member, Viewer) then the org's custom roles in creation order. */
  async listForOrg(orgId: string): Promise<RoleEntity[]> {
    return this.tx
      .repo(RoleEntity)
      .createQueryBuilder('r')
      .where('r.orgId IS NULL OR r.orgId = :orgId', { orgId })
      .orderBy('r.orgId', 'ASC', 'NULLS FIRST')
      .addOrderBy('r.id', 'ASC')
      .getMany();
  }

  /** The role as stored now (no cache: for writes), if usable in `orgId`. */
  async findInOrg(roleId: string, orgId: string): Promise<RoleEntity | null> {
    return this.tx
      .repo(RoleEntity)
      .createQueryBuilder('r')
      .where('r.id = :roleId', { roleId })
      .andWhere('(r.orgId IS NULL OR r.orgId = :orgId)', { orgId })
      .getOne();
  }

  async createCustom(orgId: string, input: CustomRoleInput): Promise<RoleEntity> {
    const name = normalizeRoleName(input.name);
    await this.assertNameFree(orgId, name);
    const now = this.clock.now();
    const role: RoleEntity = {
      id: newId(),
      orgId,
      name,
      description: input.description?.trim() ?? '',
      permissions: normalizePermissions(input.permissions),
      isSystem: false,
      createdAt: now,
      updatedAt: now,
    };
    await this.withNameConflict(() => this.tx.repo(RoleEntity).insert(role));
    return role;
  }

  /** Changes a custom role of `role.orgId`; built-ins are 409 builtin_role. */
  async updateCustom(role: RoleEntity, patch: Partial<CustomRoleInput>): Promise<RoleEntity> {
    assertCustom(role);
    const next: Partial<RoleEntity> = {};
    if (patch.name !== undefined) {
      const name = normalizeRoleName(patch.name);
      if (name.toLowerCase() !== role.name.toLowerCase()) await this.assertNameFree(role.orgId!, name);
      next.name = name;
    }
    if (patch.description !== undefined) next.description = patch.description.trim();
    if (patch.permissions !== undefined) next.permissions = normalizePermissions(patch.permissions);
    if (Object.keys(next).length === 0) return role;
    next.updatedAt = this.clock.now();
    await this.withNameConflict(() => this.tx.repo(RoleEntity).update({ id: role.id, orgId: role.orgId! }, next));
    await this.invalidate(role.id);
    return { ...role, ...next };
  }

  /** Deletes a custom role that nothing uses (409 role_in_use; built-ins 409 builtin_role). */
  async deleteCustom(role: RoleEntity): Promise<void> {
    assertCustom(role);
    const holder = await this.usage.findUse(role.orgId!, role.id);
    if (holder) throw AppException.conflict(ErrorCode.RoleInUse, `The role is still held by ${holder}; reassign them first.`);
    await this.tx.repo(RoleEntity).delete({ id: role.id, orgId: role.orgId! });
    await this.invalidate(role.id);
  }

  private async assertNameFree(orgId: string, name: string): Promise<void> {
    if (isBuiltInRoleName(name)) throw nameTaken(name);
    const clash = await this.tx
      .repo(RoleEntity)
      .createQueryBuilder('r')
      .where('r.orgId = :orgId AND lower(r.name) = lower(:name)', { orgId, name })
      .getExists();
    if (clash) throw nameTaken(name);
  }

  /** A concurrent create of the same name loses on the unique index: 409, not 500. */
  private async withNameConflict<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw AppException.conflict(ErrorCode.RoleNameTaken, 'A role with this name exists.');
      throw e;
    }
  }
}

function assertCustom(role: RoleEntity): void {
  if (role.isSystem || role.orgId === null)
    throw AppException.conflict(ErrorCode.BuiltinRole, 'Built-in roles cannot be changed or deleted.');
}

function nameTaken(name: string): AppException {
  return AppException.conflict(ErrorCode.RoleNameTaken, `A role named "${name}" exists in this organization (or is a built-in name).`);
}

export function toResolved(row: RoleEntity): ResolvedRole {
  return { id: row.id, orgId: row.orgId, name: row.name, permissions: new Set(row.permissions), isSystem: row.isSystem };
}
