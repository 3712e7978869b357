import { Global, Module } from '@nestjs/common';
import { AuditModule } from '@saasready/audit';
import { TenancyModule } from '@saasready/tenancy';
import { FeatureFlagsController, OrgFeatureFlagsController } from './flags.controller';
import { FlagsService } from './flags.service';
import { FeatureGuard } from './require-feature.decorator';

/**
 * Feature flags: FlagsService, the routes, and the guard of @RequireFeature. Global so that a host app's
 * controllers in any module can use @RequireFeature (its guard needs FlagsService) without importing this
 * module. Needs CoreModule (database, InvalidationBus, clock).
 */
@Global()
@Module({
  imports: [TenancyModule, AuditModule],
  controllers: [OrgFeatureFlagsController, FeatureFlagsController],
  providers: [FlagsService, FeatureGuard],
  exports: [FlagsService, FeatureGuard],
})
export class FlagsModule {}
