import { Injectable } from '@nestjs/common';
import { AuditAction, AuditService, AuditTargetType } from '@saasready/audit';
import { RequestContext } from '@saasready/core';
import { MembershipService, OrganizationService } from '@saasready/tenancy';
import type { RevokeReason } from './sessions/session.service';
import type { UserEntity } from './users/user.entity';

type AuditedUser = Pick<UserEntity, 'id' | 'email' | 'lastOrgId'>;

/**
 * The auth events of account changes (password, email, second factor) and of the sessions they end,
 * written with the conventions of API.md "Audit log": the user is the target; on a signed-in route the
 * caller is the actor and the row takes the session's current org; on a public route (a link token) the
 * user whose token it is acts, and the row takes the org a new session of that user would be scoped to.
 * Every method joins the ambient transaction (AuditService.record): call them inside the change's.
 */
@Injectable()
export class AuthAuditService {
  constructor(
    private readonly audit: AuditService,
    private readonly memberships: MembershipService,
    private readonly orgs: OrganizationService,
  ) {}

  /** The org a new session of the user would be scoped to: the last one if still a member, else the oldest membership, else null. */
  async newSessionOrg(user: Pick<UserEntity, 'id' | 'lastOrgId'>): Promise<string | null> {
    if (user.lastOrgId && (await this.memberships.access(user.id, user.lastOrgId))) return user.lastOrgId;
    return this.orgs.oldestMembershipOrg(user.id);
  }

  /** A `user.*` event about `user`, done by the user (signed in, or through a link of theirs). */
  async userEvent(action: AuditAction, user: AuditedUser, metadata?: Record<string, unknown>): Promise<void> {
    await this.audit.record({
      action,
      targetType: AuditTargetType.User,
      targetId: user.id,
      ...(await this.attribution(user)),
      metadata,
    });
  }

  /** One `session.revoked` per session ended (as logout-all writes), with the reason. */
  async sessionsRevoked(user: AuditedUser, sessionIds: readonly string[], reason: RevokeReason): Promise<void> {
    if (sessionIds.length === 0) return;
    const who = await this.attribution(user);
    for (const id of sessionIds) {
      await this.audit.record({
        action: AuditAction.SessionRevoked,
        targetType: AuditTargetType.Session,
        targetId: id,
        ...who,
        metadata: { reason },
      });
    }
  }

  /** Signed in as `user`: the request context's defaults (actor, email, session org). Otherwise: the user, their email, their new-session org. */
  private async attribution(user: AuditedUser): Promise<{ actorId?: string; userEmail?: string; orgId?: string | null }> {
    if (RequestContext.actor()?.userId === user.id) return {};
    return { actorId: user.id, userEmail: user.email, orgId: await this.newSessionOrg(user) };
  }
}
