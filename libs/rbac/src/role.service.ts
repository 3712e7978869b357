import { Injectable, OnModuleInit } from '@nestjs/common';
import { InvalidationBus, TransactionService, TtlCache } from '@saasready/core';
import { RoleEntity } from './role.entity';

export interface ResolvedRole {
  id: string;
  orgId: string | null;
  name: string;
  permissions: ReadonlySet<string>;
  isSystem: boolean;
}

/** Looks up roles with an in-memory cache invalidated (across instances) when a role changes. */
@Injectable()
export class RoleService implements OnModuleInit {
  static readonly TOPIC = 'role';
  private readonly cache = new TtlCache<ResolvedRole | null>(20_000, 5 * 60_000);

  constructor(
    private readonly tx: TransactionService,
    private readonly bus: InvalidationBus,
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
}

export function toResolved(row: RoleEntity): ResolvedRole {
  return { id: row.id, orgId: row.orgId, name: row.name, permissions: new Set(row.permissions), isSystem: row.isSystem };
}
