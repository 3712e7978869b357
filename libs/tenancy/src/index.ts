export * from './organization.entity';
export * from './membership.entity';
export * from './organization.service';
export * from './membership.service';
export * from './org-access.service';
export * from './slug';
export * from './tenancy.module';

import { MembershipEntity } from './membership.entity';
import { OrganizationEntity } from './organization.entity';
export const TENANCY_ENTITIES = [OrganizationEntity, MembershipEntity];
