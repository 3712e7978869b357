import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig, AppException, ErrorCode, isUuid, OrgScope, RouteAccess } from '@saasready/core';
import { PermissionRouteAccess } from '@saasready/rbac';
import { MembershipService } from './membership.service';

export interface AccessSubject {
  userId: string;
  email: string;
}

/**
 * Authorization of one request after authentication: resolves `{org_id}` from the path, loads the
 * caller's membership (memory-cached) and decides. Non-members get 404 org_not_found (no existence
 * leak), members without the permission 403 permission_denied.
 */
@Injectable()
export class OrgAccessService {
  private readonly admins: ReadonlySet<string>;

  constructor(
    private readonly memberships: MembershipService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.admins = new Set(config.instanceAdminEmails);
  }

  isInstanceAdmin(email: string): boolean {
    return this.admins.has(email.toLowerCase());
  }

  async authorize(access: RouteAccess, subject: AccessSubject, params: Record<string, string | undefined>): Promise<OrgScope | undefined> {
    if (access.kind === 'instance_admin') {
      if (!this.isInstanceAdmin(subject.email)) throw AppException.forbidden('Only instance admins may do this.');
      return undefined;
    }
    if (access.kind !== 'permission') return undefined;
    const orgId = params[access.orgParam];
    if (!isUuid(orgId)) throw AppException.validation([{ field: access.orgParam, message: 'must be a UUID' }]);
    const member = await this.memberships.access(subject.userId, orgId.toLowerCase());
    if (!member) throw AppException.notFound(ErrorCode.OrgNotFound, 'Organization not found.');
    // `orSelf` routes (leaving an org): acting on one's own membership needs no permission, only membership.
    const selfParam = (access as PermissionRouteAccess).selfParam;
    const self = selfParam !== undefined && params[selfParam]?.toLowerCase() === subject.userId.toLowerCase();
    if (!self && !member.role.permissions.has(access.permission)) {
      throw AppException.forbidden(`This action needs the ${access.permission} permission in this organization.`);
    }
    return { orgId: member.orgId, roleId: member.role.id, roleName: member.role.name, permissions: member.role.permissions };
  }
}
