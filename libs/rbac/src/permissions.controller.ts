import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '@saasready/core';
import { ALL_PERMISSIONS, PERMISSION_DESCRIPTIONS } from './permissions';

export class PermissionDto {
  @ApiProperty({ description: 'The permission, e.g. `org.update`.' })
  key: string;
  @ApiProperty()
  description: string;
}

export class PermissionListDto {
  @ApiProperty({ type: [PermissionDto] })
  data: PermissionDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Always null: this list is short and complete.' })
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
