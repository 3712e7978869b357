import { Module } from '@nestjs/common';
import { AuditModule } from '@saasready/audit';
import { RbacModule } from '@saasready/rbac';
import { AuthzController } from './authz/authz.controller';
import { AuthzService } from './authz/authz.service';
import { MembersController } from './members/members.controller';
import { MembersService } from './members/members.service';
import { MembershipService } from './membership.service';
import { OrgAccessService } from './org-access.service';
import { OrgLockService } from './org-lock.service';
import { OrganizationService } from './organization.service';
import { OrgsController } from './orgs/orgs.controller';
import { OrgRolesService } from './roles/org-roles.service';
import { RolesController } from './roles/roles.controller';
import { SessionScopeService } from './session-scope.service';

@Module({
  imports: [RbacModule, AuditModule],
  controllers: [OrgsController, MembersController, RolesController, AuthzController],
  providers: [
    OrganizationService,
    MembershipService,
    OrgAccessService,
    OrgLockService,
    SessionScopeService,
    MembersService,
    OrgRolesService,
    AuthzService,
  ],
  exports: [
    OrganizationService,
    MembershipService,
    OrgAccessService,
    OrgLockService,
    MembersService,
    OrgRolesService,
    AuthzService,
    RbacModule,
  ],
})
export class TenancyModule {}
