import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { FlagSource } from '../evaluation';

export const FLAG_DESCRIPTION_MAX = 500;

/** An org override. */
export class SetOrgFlagDto {
  /** The flag's value in this organization, whatever the default and the rollout say. */
  @IsBoolean()
  enabled: boolean;
}

/** A global definition; it replaces the stored one entirely. */
export class PutFlagDefinitionDto {
  /** Free text for people (default ''). */
  @IsOptional()
  @IsString()
  @MaxLength(FLAG_DESCRIPTION_MAX)
  description?: string;

  /** The value for orgs with no override, when there is no rollout. */
  @IsBoolean()
  default_enabled: boolean;

  /**
   * An integer 0..100: the flag is on for that share of organizations (a stable hash of key and org id,
   * so an org on at 10 % stays on at 20 %), whatever `default_enabled` says. Null or omitted: no rollout.
   */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  rollout_percent?: number | null;
}

/** A flag's value in one organization. */
export class EffectiveFlagDto {
  key: string;
  enabled: boolean;
  /** `org` (this organization's override), `rollout` (the percentage rollout) or `default` (the definition's default; off for an undefined key). */
  @ApiProperty({ enum: Object.values(FlagSource) })
  source: FlagSource;
  /** When the deciding override or definition last changed (ISO 8601); null for a key with neither. */
  updated_at: string | null;
}

export class EffectiveFlagListDto {
  data: EffectiveFlagDto[];
  /** Always null: the list is short and complete. */
  next_cursor: string | null;
}

export class FlagDefinitionDto {
  key: string;
  description: string;
  default_enabled: boolean;
  rollout_percent: number | null;
  created_at: string;
  updated_at: string;
}

export class FlagDefinitionListDto {
  data: FlagDefinitionDto[];
  /** Always null: the list is short and complete. */
  next_cursor: string | null;
}
