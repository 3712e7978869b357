import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { Actor, AppException, Authenticated, CurrentActor, ReadOnlyRoute } from '@saasready/core';
import { AuthzService } from './authz.service';
import { AuthzBatchResultDto, AuthzRequestDto, AuthzResultDto } from './dto/authz.dto';

@ApiTags('authz')
@Controller('authz')
export class AuthzController {
  constructor(private readonly authz: AuthzService) {}

  @Authenticated()
  @Post('check')
  @ReadOnlyRoute()
  @HttpCode(200)
  @ApiExtraModels(AuthzResultDto, AuthzBatchResultDto)
  @ApiOkResponse({ schema: { oneOf: [{ $ref: getSchemaPath(AuthzResultDto) }, { $ref: getSchemaPath(AuthzBatchResultDto) }] } })
  @ApiOperation({
    operationId: 'checkPermission',
    summary: 'Is the caller allowed, now?',
    description:
      '`{org_id, permission}` answers `{allowed}`; `{checks: [...]}` (at most 100) answers `{results: [{allowed}]}` in order. ' +
      'An organization the caller is not in (or that does not exist) answers `allowed: false`. ' +
      'A permission not in the catalog (GET /permissions) is 400 validation_failed.',
  })
  async check(@CurrentActor() actor: Actor, @Body() dto: AuthzRequestDto): Promise<AuthzResultDto | AuthzBatchResultDto> {
    const userId = actor.userId;
    const single = dto.org_id !== undefined || dto.permission !== undefined;
    if (dto.checks !== undefined) {
      if (single) throw AppException.validation([{ field: 'checks', message: 'send either checks or org_id and permission, not both' }]);
      const allowed = await this.authz.check(
        userId,
        dto.checks.map((c) => ({ orgId: c.org_id, permission: c.permission })),
      );
      return { results: allowed.map((a) => ({ allowed: a })) };
    }
    const missing = [
      ...(dto.org_id === undefined ? [{ field: 'org_id', message: 'is required (or send checks)' }] : []),
      ...(dto.permission === undefined ? [{ field: 'permission', message: 'is required (or send checks)' }] : []),
    ];
    if (missing.length) throw AppException.validation(missing);
    const [allowed] = await this.authz.check(userId, [{ orgId: dto.org_id!, permission: dto.permission! }]);
    return { allowed };
  }
}
