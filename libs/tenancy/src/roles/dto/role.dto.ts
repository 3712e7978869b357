import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { ALL_PERMISSIONS, ROLE_DESCRIPTION_MAX, ROLE_NAME_MAX } from '@saasready/rbac';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const PERMISSION_MESSAGE = `each value must be a known permission (${ALL_PERMISSIONS.join(', ')})`;

export class CreateRoleDto {
  /** Unique in the organization, case-insensitively, and not a built-in name (409 role_name_taken). */
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(ROLE_NAME_MAX)
  @Matches(/\S/, { message: 'must not be blank' })
  name: string;

  @IsOptional()
  @IsString()
  @MaxLength(ROLE_DESCRIPTION_MAX)
  description?: string;

  /** Permission keys from GET /permissions; the caller must hold each of them (403 permission_denied). */
  @IsArray()
  @ArrayMaxSize(ALL_PERMISSIONS.length * 4)
  @IsString({ each: true })
  @IsIn(ALL_PERMISSIONS, { each: true, message: PERMISSION_MESSAGE })
  permissions: string[];
}

export class UpdateRoleDto {
  @IsOptional()
  @Transform(trim)
  @IsString()
  @MinLength(1)
  @MaxLength(ROLE_NAME_MAX)
  @Matches(/\S/, { message: 'must not be blank' })
  name?: string;

  @IsOptional()
  @IsString()
  @MaxLength(ROLE_DESCRIPTION_MAX)
  description?: string;

  /** Replaces the role's permissions; the caller must hold each old and new one (403 permission_denied). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(ALL_PERMISSIONS.length * 4)
  @IsString({ each: true })
  @IsIn(ALL_PERMISSIONS, { each: true, message: PERMISSION_MESSAGE })
  permissions?: string[];
}

export class RoleDto {
  id: string;
  name: string;
  description: string;
  permissions: string[];
  /** True for the built-in roles (Owner, Admin, Member, Viewer), which cannot be changed or deleted. */
  is_system: boolean;
}

export class RoleListDto {
  data: RoleDto[];
  /** Always null: the list is short and complete. */
  next_cursor: string | null;
}
