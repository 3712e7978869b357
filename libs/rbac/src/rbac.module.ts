import { Module } from '@nestjs/common';
import { PermissionsController } from './permissions.controller';
import { RoleService } from './role.service';
import { RoleUsageRegistry } from './role-usage';

@Module({
  controllers: [PermissionsController],
  providers: [RoleService, RoleUsageRegistry],
  exports: [RoleService, RoleUsageRegistry],
})
export class RbacModule {}
