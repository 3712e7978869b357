import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, IsUUID, ValidateNested } from 'class-validator';
import { ALL_PERMISSIONS } from '@saasready/rbac';

export const AUTHZ_BATCH_MAX = 100;
const PERMISSION_MESSAGE = `must be a known permission (${ALL_PERMISSIONS.join(', ')})`;

export class AuthzCheckDto {
  @IsUUID('all', { message: 'must be a UUID' })
  org_id: string;

  @IsString()
  @IsIn(ALL_PERMISSIONS, { message: PERMISSION_MESSAGE })
  permission: string;
}

/** Either one check (`org_id` + `permission`) or a batch (`checks`, at most 100), not both. */
export class AuthzRequestDto {
  @IsOptional()
  @IsUUID('all', { message: 'must be a UUID' })
  org_id?: string;

  @IsOptional()
  @IsString()
  @IsIn(ALL_PERMISSIONS, { message: PERMISSION_MESSAGE })
  permission?: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(AUTHZ_BATCH_MAX, { message: `must hold at most ${AUTHZ_BATCH_MAX} checks` })
  @ValidateNested({ each: true })
  @Type(() => AuthzCheckDto)
  checks?: AuthzCheckDto[];
}

export class AuthzResultDto {
  allowed: boolean;
}

export class AuthzBatchResultDto {
  /** One result per check, in the order of `checks`. */
  results: AuthzResultDto[];
}
