import { Injectable } from '@nestjs/common';
import { InvalidationBus, SESSION_INVALIDATION_TOPIC, TransactionService } from '@saasready/core';

/**
 * Sessions are libs/auth's, but losing a membership must unscope them ("the session's current org
 * becomes null"). Tenancy sits below auth, so it writes the one column by SQL and tells SessionService
 * (which caches session state) through the InvalidationBus, after commit.
 */
@Injectable()
export class SessionScopeService {
  constructor(
    private readonly tx: TransactionService,
    private readonly bus: InvalidationBus,
  ) {}

  /** Every session of `userId` scoped to `orgId` becomes unscoped. */
  async clearOrgForUser(userId: string, orgId: string): Promise<void> {
    await this.tx.manager().query(`UPDATE sessions SET current_org_id = NULL WHERE user_id = $1 AND current_org_id = $2`, [userId, orgId]);
    await this.invalidateUsers([userId]);
  }

  /** The users whose sessions are scoped to `orgId` now (before the org is deleted: the FK unscopes them). */
  async usersScopedTo(orgId: string): Promise<string[]> {
    const rows: { user_id: string }[] = await this.tx
      .manager()
      .query(`SELECT DISTINCT user_id FROM sessions WHERE current_org_id = $1`, [orgId]);
    return rows.map((r) => r.user_id);
  }

  async invalidateUsers(userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    await this.tx.afterCommit(async () => {
      for (const id of userIds) await this.bus.publish(SESSION_INVALIDATION_TOPIC, `user:${id}`);
    });
  }
}
