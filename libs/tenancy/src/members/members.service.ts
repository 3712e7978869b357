import { Injectable } from '@nestjs/common';
import { AuditAction, AuditService, AuditTargetType } from '@saasready/audit';
import { AppException, ErrorCode, TransactionService } from '@saasready/core';
import { assertCanGrant, assertCanManage, Permission, removesLastOwner, RoleService } from '@saasready/rbac';
import { MembershipEntity } from '../membership.entity';
import { MembershipService } from '../membership.service';
import { OrgLockService } from '../org-lock.service';
import { SessionScopeService } from '../session-scope.service';
import { MemberDto } from './dto/member.dto';

interface MemberRow {
  id: string;
  user_id: string;
  email: string;
  full_name: string;
  role_id: string;
  role_name: string;
  created_at: Date;
}

export type RemovalKind = 'removed' | 'left';

/**
 * Members of an org: list, change role, remove or leave. Every write locks the org row first
 * (OrgLockService), re-reads the actor's role, applies the grant rules (libs/rbac grant-rules) and
 * the last-owner rule, and invalidates the membership cache after commit.
 */
@Injectable()
export class MembersService {
  constructor(
    private readonly tx: TransactionService,
    private readonly lock: OrgLockService,
    private readonly memberships: MembershipService,
    private readonly roles: RoleService,
    private readonly sessions: SessionScopeService,
    private readonly audit: AuditService,
  ) {}

  /** Members in join order after membership `afterId`; `limit + 1` rows tell whether more follow. */
  async list(orgId: string, page: { limit: number; afterId: string | null }): Promise<{ key: string; member: MemberDto }[]> {
    const rows = await this.query(`m.org_id = $1 AND ($2::uuid IS NULL OR m.id > $2::uuid) ORDER BY m.id LIMIT $3`, [
      orgId,
      page.afterId,
      page.limit + 1,
    ]);
    return rows.map((r) => ({ key: r.id, member: toMemberDto(r) }));
  }

  async get(orgId: string, userId: string): Promise<MemberDto | null> {
    const rows = await this.query(`m.org_id = $1 AND m.user_id = $2`, [orgId, userId]);
    return rows[0] ? toMemberDto(rows[0]) : null;
  }

  /**
   * Gives `userId` the role `roleId` (built-in or custom to this org, else 400 invalid_role). The actor
   * must hold user.manage, every permission of the new role and of the member's current role (403),
   * and the org keeps an Owner (409 last_owner). A change writes `member.role_changed` (old and new
   * role) in the same transaction; the role the member already has changes nothing and writes nothing.
   */
  async changeRole(orgId: string, actorId: string, userId: string, roleId: string): Promise<MemberDto> {
    return this.tx.run(async () => {
      const actor = await this.lock.acquire(orgId, actorId, Permission.UserManage);
      const target = await this.memberships.fresh(userId, orgId);
      if (!target) throw AppException.notFound(ErrorCode.NotFound, 'No such member in this organization.');
      const role = await this.roles.findInOrg(roleId, orgId);
      if (!role) throw new AppException(400, ErrorCode.InvalidRole, 'The role does not exist in this organization.');
      assertCanManage(actor.role.permissions, target.role.permissions);
      assertCanGrant(actor.role.permissions, role.permissions);
      if (target.role.id !== role.id) {
        const ownerCount = await this.memberships.ownerCount(orgId);
        if (removesLastOwner({ ownerCount, fromRoleId: target.role.id, toRoleId: role.id })) {
          throw AppException.conflict(ErrorCode.LastOwner, 'The organization must keep at least one Owner.');
        }
        await this.tx.repo(MembershipEntity).update({ orgId, userId }, { roleId: role.id });
        await this.memberships.invalidate(userId, orgId);
        await this.audit.record({
          action: AuditAction.MemberRoleChanged,
          targetType: AuditTargetType.Member,
          targetId: userId,
          actorId,
          orgId,
          metadata: {
            old_role_id: target.role.id,
            old_role_name: target.role.name,
            new_role_id: role.id,
            new_role_name: role.name,
          },
        });
      }
      const member = await this.get(orgId, userId);
      if (!member) throw AppException.notFound(ErrorCode.NotFound, 'No such member in this organization.');
      return member;
    });
  }

  /**
   * Removes `userId` from the org (`left` when the actor is that user: no user.manage needed). Managing
   * another member needs user.manage and every permission of their role (403); the last Owner cannot go
   * (409 last_owner). The member's sessions scoped to the org become unscoped. Writes `member.removed`
   * or `member.left` (with the role the member had) in the same transaction.
   */
  async remove(orgId: string, actorId: string, userId: string): Promise<RemovalKind> {
    const kind: RemovalKind = actorId === userId ? 'left' : 'removed';
    await this.tx.run(async () => {
      const actor = await this.lock.acquire(orgId, actorId, kind === 'left' ? undefined : Permission.UserManage);
      const target = kind === 'left' ? actor : await this.memberships.fresh(userId, orgId);
      if (!target) throw AppException.notFound(ErrorCode.NotFound, 'No such member in this organization.');
      if (kind === 'removed') assertCanManage(actor.role.permissions, target.role.permissions);
      const ownerCount = await this.memberships.ownerCount(orgId);
      if (removesLastOwner({ ownerCount, fromRoleId: target.role.id, toRoleId: null })) {
        throw AppException.conflict(
          ErrorCode.LastOwner,
          kind === 'left'
            ? 'You are the last Owner: make another member Owner (or delete the organization) first.'
            : 'The organization must keep at least one Owner.',
        );
      }
      await this.tx.repo(MembershipEntity).delete({ orgId, userId });
      await this.memberships.invalidate(userId, orgId);
      await this.sessions.clearOrgForUser(userId, orgId);
      await this.audit.record({
        action: kind === 'left' ? AuditAction.MemberLeft : AuditAction.MemberRemoved,
        targetType: AuditTargetType.Member,
        targetId: userId,
        actorId,
        orgId,
        metadata: { role_id: target.role.id, role_name: target.role.name },
      });
    });
    return kind;
  }

  private async query(where: string, params: unknown[]): Promise<MemberRow[]> {
    return this.tx.manager().query(
      `SELECT m.id, m.user_id, u.email, u.full_name, m.role_id, r.name AS role_name, m.created_at
         FROM memberships m
         JOIN users u ON u.id = m.user_id
         JOIN roles r ON r.id = m.role_id
        WHERE ${where}`,
      params,
    );
  }
}

function toMemberDto(r: MemberRow): MemberDto {
  return {
    user_id: r.user_id,
    email: r.email,
    full_name: r.full_name,
    role_id: r.role_id,
    role_name: r.role_name,
    joined_at: new Date(r.created_at).toISOString(),
  };
}
