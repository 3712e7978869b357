import { Injectable } from '@nestjs/common';
import { MembershipService } from '../membership.service';

export interface AuthzQuery {
  orgId: string;
  permission: string;
}

/**
 * "Is this user allowed to do `permission` in `orgId`, now?" for host applications. Served from the
 * membership and role caches (one database read per org on a cold cache, none when warm); the caches
 * are invalidated on every membership and role change, so answers follow changes at once.
 */
@Injectable()
export class AuthzService {
  constructor(private readonly memberships: MembershipService) {}

  async check(userId: string, queries: readonly AuthzQuery[]): Promise<boolean[]> {
    if (queries.length === 1) {
      // The common call (one check): no set, map or Promise.all.
      const [q] = queries;
      return [(await this.memberships.access(userId, q.orgId.toLowerCase()))?.role.permissions.has(q.permission) ?? false];
    }
    const orgIds = [...new Set(queries.map((q) => q.orgId.toLowerCase()))];
    const access = new Map(await Promise.all(orgIds.map(async (id) => [id, await this.memberships.access(userId, id)] as const)));
    return queries.map((q) => access.get(q.orgId.toLowerCase())?.role.permissions.has(q.permission) ?? false);
  }
}
