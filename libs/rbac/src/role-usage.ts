import { Injectable } from '@nestjs/common';

/** Answers whether anything in `orgId` still refers to `roleId` (a member, a pending invitation, ...). */
export type RoleUsageCheck = (orgId: string, roleId: string) => Promise<boolean>;

/**
 * The seam for "role in use" (409 role_in_use): libs that hold role ids register a check at start-up
 * (tenancy: memberships; invitations: pending invitations). rbac knows none of them.
 * The checks run inside the caller's transaction, under the org row lock.
 */
@Injectable()
export class RoleUsageRegistry {
  private readonly checks = new Map<string, RoleUsageCheck>();

  register(holder: string, check: RoleUsageCheck): void {
    this.checks.set(holder, check);
  }

  /** The first holder (e.g. 'members') that still uses the role, or null. */
  async findUse(orgId: string, roleId: string): Promise<string | null> {
    for (const [holder, check] of this.checks) if (await check(orgId, roleId)) return holder;
    return null;
  }
}
