import { EffectiveFlagDto, FlagDefinitionDto } from './dto/feature-flag.dto';
import { EffectiveFlag, FlagDefinition } from './flags.service';

export function toEffectiveFlagDto(f: EffectiveFlag): EffectiveFlagDto {
  return { key: f.key, enabled: f.enabled, source: f.source, updated_at: f.updatedAt ? f.updatedAt.toISOString() : null };
}

export function toFlagDefinitionDto(d: FlagDefinition): FlagDefinitionDto {
  return {
    key: d.key,
    description: d.description,
    default_enabled: d.defaultEnabled,
    rollout_percent: d.rolloutPercent,
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
  };
}
