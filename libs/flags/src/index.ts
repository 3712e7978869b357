export * from './evaluation';
export * from './flag-key';
export * from './feature-flag.entity';
export * from './flags.service';
export * from './require-feature.decorator';
export * from './dto/feature-flag.dto';
export * from './flags.controller';
export * from './flags.module';

import { FeatureFlagEntity, OrgFeatureFlagEntity } from './feature-flag.entity';
export const FLAGS_ENTITIES = [FeatureFlagEntity, OrgFeatureFlagEntity];
