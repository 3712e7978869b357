import { Injectable, OnModuleInit } from '@nestjs/common';
import { InvalidationBus, TransactionService, TtlCache } from '@saasready/core';
import { BuiltInRole, ResolvedRole, RoleService, RoleUsageRegistry } from '@saasready/rbac';
import { MembershipEntity } from './membership.entity';

export interface MemberAccess {
  orgId: string;
  userId: string;
  role: ResolvedRole;
}

/**
 * The caller's membership and role in an org, served from memory on the hot path. Every change of a
 * membership goes through `invalidate`, which reaches every instance (InvalidationBus).
 */
@Injectable()
export class MembershipService implements OnModuleInit {
  static readonly TOPIC = 'membership';
  private readonly cache = new TtlCache<string | null>(100_000, 60_000);

  constructor(
    private readonly tx: TransactionService,
    private readonly roles: RoleService,
    private readonly bus: InvalidationBus,
    private readonly roleUsage: RoleUsageRegistry,
  ) {}

  onModuleInit(): void {
    this.bus.on(MembershipService.TOPIC, (key) => {
      if (key === '*') this.cache.clear();
      else if (key.startsWith('org:')) {
        const suffix = `:${key.slice(4)}`;
        this.cache.deleteWhere((k) => k.endsWith(suffix));
      } else this.cache.delete(key);
    });
    // A custom role held by a member cannot be deleted (409 role_in_use).
    this.roleUsage.register('members', (orgId, roleId) => this.tx.repo(MembershipEntity).exists({ where: { orgId, roleId } }));
  }

  /** The member's role in the org, or null for a non-member. */
  async access(userId: string, orgId: string): Promise<MemberAccess | null> {
    const roleId = await this.cache.fill(
      `${userId}:${orgId}`,
      async () => (await this.tx.repo(MembershipEntity).findOne({ where: { userId, orgId }, select: { roleId: true } }))?.roleId ?? null,
      !this.tx.inTransaction(),
    );
    if (roleId === null) return null;
    const role = await this.roles.get(roleId);
    return role ? { orgId, userId, role } : null;
  }

  /** The membership and its role as stored now, bypassing every cache: for writes under the org row lock. */
  async fresh(userId: string, orgId: string): Promise<MemberAccess | null> {
    const rows: { id: string; org_id: string | null; name: string; permissions: string[]; is_system: boolean }[] = await this.tx
      .manager()
      .query(
        `SELECT r.id, r.org_id, r.name, r.permissions, r.is_system
           FROM memberships m JOIN roles r ON r.id = m.role_id
          WHERE m.org_id = $1 AND m.user_id = $2`,
        [orgId, userId],
      );
    const r = rows[0];
    if (!r) return null;
    return { orgId, userId, role: { id: r.id, orgId: r.org_id, name: r.name, permissions: new Set(r.permissions), isSystem: r.is_system } };
  }

  /** How many members hold the built-in Owner role (read it under the org row lock). */
  async ownerCount(orgId: string): Promise<number> {
    return this.tx.repo(MembershipEntity).count({ where: { orgId, roleId: BuiltInRole.Owner.id } });
  }

  async invalidate(userId: string, orgId: string): Promise<void> {
    await this.tx.afterCommit(() => this.bus.publish(MembershipService.TOPIC, `${userId}:${orgId}`));
  }

  async invalidateOrg(orgId: string): Promise<void> {
    await this.tx.afterCommit(() => this.bus.publish(MembershipService.TOPIC, `org:${orgId}`));
  }
}
