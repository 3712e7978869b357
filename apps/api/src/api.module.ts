import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, Clock, CoreModule } from '@saasready/core';
import { AUTH_ENTITIES, AuthModule } from '@saasready/auth';
import { RBAC_ENTITIES, RbacModule } from '@saasready/rbac';
import { TENANCY_ENTITIES, TenancyModule } from '@saasready/tenancy';
import { MIGRATIONS } from '@saasready/migrations';

/** Every entity the service maps (explicit list, no globs). */
export const ENTITIES = [...AUTH_ENTITIES, ...TENANCY_ENTITIES, ...RBAC_ENTITIES];

export interface ApiModuleOptions {
  config: AppConfig;
  clock?: Clock;
}

/** The HTTP API: composes the libs; no logic of its own. */
@Module({})
export class ApiModule {
  static forRoot(options: ApiModuleOptions): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        CoreModule.forRoot({ config: options.config, clock: options.clock, entities: ENTITIES, migrations: MIGRATIONS }),
        RbacModule,
        TenancyModule,
        AuthModule,
      ],
    };
  }
}
