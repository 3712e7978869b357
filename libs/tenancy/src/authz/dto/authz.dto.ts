import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, IsUUID, ValidateNested } from 'class-validator';
import { JsonSchemaBody } from '@saasready/core';
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

/** class-validator's IsUUID('all') (validator.js): versions 1 to 8 with the RFC variant, nil and max; either case. */
const UUID_PATTERN =
  '^(?:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[1-8][0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}' +
  '|00000000-0000-0000-0000-000000000000|[Ff]{8}-[Ff]{4}-[Ff]{4}-[Ff]{4}-[Ff]{12})$';
const CHECK_PROPERTIES = {
  org_id: { type: 'string', pattern: UUID_PATTERN },
  permission: { type: 'string', enum: [...ALL_PERMISSIONS] },
};

/**
 * Either one check (`org_id` + `permission`) or a batch (`checks`, at most 100), not both.
 *
 * The body of POST /authz/check, the hottest route a host application calls. Validated at run time by
 * the compiled JSON Schema below (class-validator cost this route about 40 % of its throughput); the
 * class-validator rules document it and authz.dto.spec checks that both accept and refuse the same
 * bodies. The schema is stricter in one way: `null` is refused where @IsOptional() would let it through.
 */
@JsonSchemaBody({
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...CHECK_PROPERTIES,
      checks: {
        type: 'array',
        maxItems: AUTHZ_BATCH_MAX,
        items: { type: 'object', additionalProperties: false, required: ['org_id', 'permission'], properties: CHECK_PROPERTIES },
      },
    },
  },
  messages: {
    org_id: 'must be a UUID',
    permission: PERMISSION_MESSAGE,
    'checks:maxItems': `must hold at most ${AUTHZ_BATCH_MAX} checks`,
    checks: 'must be an array of {org_id, permission}',
  },
})
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
