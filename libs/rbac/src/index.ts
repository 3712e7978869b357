export * from './permissions';
export * from './grant-rules';
export * from './role.entity';
export * from './role-rules';
export * from './role-usage';
export * from './role.service';
export * from './require-permission.decorator';
export * from './rbac.module';
export { Public, Authenticated } from '@saasready/core';

import { RoleEntity } from './role.entity';
export const RBAC_ENTITIES = [RoleEntity];
