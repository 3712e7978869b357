import { Module } from '@nestjs/common';
import { PermissionsController } from './permissions.controller';
import { RoleService } from './role.service';

@Module({
  controllers: [PermissionsController],
  providers: [RoleService],
  exports: [RoleService],
})
export class RbacModule {}
