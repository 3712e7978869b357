import { Injectable, OnModuleInit } from '@nestjs/common';
import { InvalidationBus, TransactionService, TtlCache } from '@saasready/core';
import { ResolvedRole, RoleService } from '@saasready/rbac';
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
  ) {}

  onModuleInit(): void {
    this.bus.on(MembershipService.TOPIC, (key) => {
      if (key === '*') this.cache.clear();
      else if (key.startsWith('org:')) {
        const suffix = `:${key.slice(4)}`;
        this.cache.deleteWhere((k) => k.endsWith(suffix));
      } else this.cache.delete(key);
    });
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

  async invalidate(userId: string, orgId: string): Promise<void> {
    await this.tx.afterCommit(() => this.bus.publish(MembershipService.TOPIC, `${userId}:${orgId}`));
  }

  async invalidateOrg(orgId: string): Promise<void> {
    await this.tx.afterCommit(() => this.bus.publish(MembershipService.TOPIC, `org:${orgId}`));
  }
}
