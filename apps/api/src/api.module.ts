import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, Clock, CoreModule } from '@saasready/core';
import { AUDIT_ENTITIES, AuditModule, AuditPruneJob } from '@saasready/audit';
import { AUTH_ENTITIES, AuthModule } from '@saasready/auth';
import { FLAGS_ENTITIES, FlagsModule } from '@saasready/flags';
import { INVITATIONS_ENTITIES, InvitationsModule } from '@saasready/invitations';
import { MAIL_ENTITIES, MailModule } from '@saasready/mail';
import { RBAC_ENTITIES, RbacModule } from '@saasready/rbac';
import { TENANCY_ENTITIES, TenancyModule } from '@saasready/tenancy';
import { MIGRATIONS } from '@saasready/migrations';

/** Every entity the service maps (explicit list, no globs). */
export const ENTITIES = [
  ...AUTH_ENTITIES,
  ...TENANCY_ENTITIES,
  ...RBAC_ENTITIES,
  ...AUDIT_ENTITIES,
  ...MAIL_ENTITIES,
  ...INVITATIONS_ENTITIES,
  ...FLAGS_ENTITIES,
];

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
        AuditModule,
        // Email: with REDIS_URL the outbox is relayed to the worker's queue, else delivered in-process.
        MailModule.forRoot({ config: options.config }),
        InvitationsModule,
        FlagsModule,
      ],
      // Audit retention: without Redis there is no worker (it needs REDIS_URL), so the API runs the daily job.
      providers: options.config.redisUrl ? [] : [AuditPruneJob],
    };
  }
}
