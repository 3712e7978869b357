import { Injectable } from '@nestjs/common';
import { AppException, ErrorCode, TransactionService } from '@saasready/core';
import { Permission } from '@saasready/rbac';
import { MemberAccess, MembershipService } from './membership.service';

/**
 * Serializes the writes of one organization. Every change of memberships, custom roles (and, when they
 * arrive, invitations) of an org starts with `acquire` inside its transaction: it locks the org row
 * (`SELECT ... FOR UPDATE`), so owner counts, "role in use" and the caller's own role are read after any
 * concurrent change of that org has committed, never beside it.
 */
@Injectable()
export class OrgLockService {
  constructor(
    private readonly tx: TransactionService,
    private readonly memberships: MembershipService,
  ) {}

  /** Locks the org row until the transaction ends; 404 org_not_found when the org is gone. */
  async lock(orgId: string): Promise<void> {
    if (!this.tx.inTransaction()) throw new Error('OrgLockService.lock must run inside TransactionService.run');
    const rows: unknown[] = await this.tx.manager().query(`SELECT id FROM organizations WHERE id = $1 FOR UPDATE`, [orgId]);
    if (rows.length === 0) throw AppException.notFound(ErrorCode.OrgNotFound, 'Organization not found.');
  }

  /**
   * Locks the org, then re-reads the caller's membership as stored now (the guard's view may predate a
   * concurrent demotion): a non-member is 404 org_not_found, a member without `permission` 403.
   */
  async acquire(orgId: string, userId: string, permission?: Permission): Promise<MemberAccess> {
    await this.lock(orgId);
    const actor = await this.memberships.fresh(userId, orgId);
    if (!actor) throw AppException.notFound(ErrorCode.OrgNotFound, 'Organization not found.');
    if (permission && !actor.role.permissions.has(permission)) {
      throw AppException.forbidden(`This action needs the ${permission} permission in this organization.`);
    }
    return actor;
  }
}
