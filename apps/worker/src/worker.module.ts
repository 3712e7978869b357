import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, CoreModule } from '@saasready/core';
import { AUTH_ENTITIES } from '@saasready/auth';
import { RBAC_ENTITIES } from '@saasready/rbac';
import { TENANCY_ENTITIES } from '@saasready/tenancy';
import { MIGRATIONS } from '@saasready/migrations';

/** The worker: composes the same libs as the API (queues and processors arrive with the mail lib). */
@Module({})
export class WorkerModule {
  static forRoot(options: { config: AppConfig }): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        CoreModule.forRoot({
          config: options.config,
          http: false,
          entities: [...AUTH_ENTITIES, ...TENANCY_ENTITIES, ...RBAC_ENTITIES],
          migrations: MIGRATIONS,
        }),
      ],
    };
  }
}
