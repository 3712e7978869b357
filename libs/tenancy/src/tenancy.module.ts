import { Module } from '@nestjs/common';
import { RbacModule } from '@saasready/rbac';
import { MembershipService } from './membership.service';
import { OrgAccessService } from './org-access.service';
import { OrganizationService } from './organization.service';

@Module({
  imports: [RbacModule],
  providers: [OrganizationService, MembershipService, OrgAccessService],
  exports: [OrganizationService, MembershipService, OrgAccessService, RbacModule],
})
export class TenancyModule {}
