import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '@saasready/core';
import { ALL_PERMISSIONS, PERMISSION_DESCRIPTIONS } from './permissions';

export class PermissionDto {
  key: string;
  description: string;
}

export class PermissionListDto {
  data: PermissionDto[];
  /** Always null: this list is short and complete. */
  next_cursor: string | null;
}

@ApiTags('permissions')
@Controller('permissions')
export class PermissionsController {
  @Authenticated()
  @Get()
  @ApiOperation({ operationId: 'listPermissions', summary: 'The permission catalog' })
  list(): PermissionListDto {
    return { data: ALL_PERMISSIONS.map((key) => ({ key, description: PERMISSION_DESCRIPTIONS[key] })), next_cursor: null };
  }
}
