import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Actor, CurrentActor, CurrentOrg, OrgScope } from '@saasready/core';
import { Permission, RequireInstanceAdmin, RequirePermission } from '@saasready/rbac';
import {
  EffectiveFlagDto,
  EffectiveFlagListDto,
  FlagDefinitionDto,
  FlagDefinitionListDto,
  PutFlagDefinitionDto,
  SetOrgFlagDto,
} from './dto/feature-flag.dto';
import { FLAG_KEY_PATTERN, flagKeyParam } from './flag-key';
import { toEffectiveFlagDto, toFlagDefinitionDto } from './flags.mapper';
import { FlagsService } from './flags.service';

const FLAG_KEY_PARAM = {
  name: 'flag_key',
  description: `The flag key, \`${FLAG_KEY_PATTERN.source}\` (otherwise 400 validation_failed).`,
  schema: { type: 'string' as const, pattern: FLAG_KEY_PATTERN.source },
};

/** The effective flags of one organization, and its overrides. */
@ApiTags('feature-flags')
@Controller('orgs/:org_id/feature-flags')
export class OrgFeatureFlagsController {
  constructor(private readonly flags: FlagsService) {}

  @RequirePermission(Permission.OrgRead)
  @Get()
  @ApiOperation({
    operationId: 'listOrgFeatureFlags',
    summary: "The organization's effective flags",
    description:
      'Every defined flag plus every key overridden in this organization, by key, with its value and `source`: ' +
      '`org` (an override of this organization wins), else `rollout` (the definition has a rollout percentage: on exactly ' +
      'for the organizations whose stable hash of key and org id falls under it), else `default`. The list is complete ' +
      '(`next_cursor` null).',
  })
  async list(@CurrentOrg() org: OrgScope): Promise<EffectiveFlagListDto> {
    return { data: (await this.flags.list(org.orgId)).map(toEffectiveFlagDto), next_cursor: null };
  }

  @RequirePermission(Permission.OrgRead)
  @Get(':flag_key')
  @ApiParam(FLAG_KEY_PARAM)
  @ApiOperation({
    operationId: 'getOrgFeatureFlag',
    summary: "One flag's value in the organization",
    description: 'A key with no definition and no override answers `enabled: false, source: "default"` (not 404).',
  })
  async get(@CurrentOrg() org: OrgScope, @Param('flag_key', flagKeyParam()) key: string): Promise<EffectiveFlagDto> {
    return toEffectiveFlagDto(await this.flags.evaluate(org.orgId, key));
  }

  @RequirePermission(Permission.FlagManage)
  @Put(':flag_key')
  @ApiParam(FLAG_KEY_PARAM)
  @ApiOperation({
    operationId: 'setOrgFeatureFlag',
    summary: 'Override a flag for the organization (source `org`)',
    description:
      'Any key matching the pattern may be overridden, defined globally or not. Answers the effective flag. ' +
      'Writes a `flag.updated` audit row (target the key; metadata `old` and `new`).',
  })
  async set(
    @CurrentOrg() org: OrgScope,
    @CurrentActor() actor: Actor,
    @Param('flag_key', flagKeyParam()) key: string,
    @Body() dto: SetOrgFlagDto,
  ): Promise<EffectiveFlagDto> {
    return toEffectiveFlagDto(await this.flags.setOverride(org.orgId, key, dto.enabled, { userId: actor.userId }));
  }

  @RequirePermission(Permission.FlagManage)
  @Delete(':flag_key')
  @HttpCode(204)
  @ApiParam(FLAG_KEY_PARAM)
  @ApiOperation({
    operationId: 'deleteOrgFeatureFlag',
    summary: "Remove the organization's override (back to the rollout or default)",
    description: 'Idempotent: 204 whether or not there was an override. Removing one writes a `flag.updated` audit row.',
  })
  async remove(@CurrentOrg() org: OrgScope, @CurrentActor() actor: Actor, @Param('flag_key', flagKeyParam()) key: string): Promise<void> {
    await this.flags.clearOverride(org.orgId, key, { userId: actor.userId });
  }
}

/** The global definitions (instance admins: INSTANCE_ADMIN_EMAILS). */
@ApiTags('feature-flags')
@Controller('feature-flags')
export class FeatureFlagsController {
  constructor(private readonly flags: FlagsService) {}

  @RequireInstanceAdmin()
  @Get()
  @ApiOperation({ operationId: 'listFeatureFlags', summary: 'Every global flag definition, by key (complete list)' })
  async list(): Promise<FlagDefinitionListDto> {
    return { data: (await this.flags.definitions()).map(toFlagDefinitionDto), next_cursor: null };
  }

  @RequireInstanceAdmin()
  @Put(':flag_key')
  @ApiParam(FLAG_KEY_PARAM)
  @ApiOperation({
    operationId: 'putFeatureFlag',
    summary: 'Create or replace a global flag definition',
    description:
      'Replaces the whole definition: an omitted `description` becomes "", an omitted `rollout_percent` null (no rollout). ' +
      'Org overrides are kept. Writes a `flag.updated` audit row with no organization (metadata `old` and `new`).',
  })
  async put(@Param('flag_key', flagKeyParam()) key: string, @Body() dto: PutFlagDefinitionDto): Promise<FlagDefinitionDto> {
    const def = await this.flags.define(key, {
      description: dto.description,
      defaultEnabled: dto.default_enabled,
      rolloutPercent: dto.rollout_percent ?? null,
    });
    return toFlagDefinitionDto(def);
  }
}
