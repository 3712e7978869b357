import { DynamicModule, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig, CoreModule, REDIS } from '@saasready/core';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { AUDIT_ENTITIES, AuditModule, AuditPruneJob } from '@saasready/audit';
import { AUTH_ENTITIES } from '@saasready/auth';
import { FLAGS_ENTITIES } from '@saasready/flags';
import { INVITATIONS_ENTITIES } from '@saasready/invitations';
import { MAIL_ENTITIES, MailModule } from '@saasready/mail';
import { RBAC_ENTITIES } from '@saasready/rbac';
import { TENANCY_ENTITIES } from '@saasready/tenancy';
import { MIGRATIONS } from '@saasready/migrations';
import { createMailProcessor, MailWorkerOptions } from './mail.processor';
import { WorkerHealthServer } from './worker-health';

/** The worker: composes the same libs as the API, plus the queue processors and a health endpoint; no HTTP routes. */
@Module({})
export class WorkerModule {
  static forRoot(options: { config: AppConfig; mailWorker?: MailWorkerOptions }): DynamicModule {
    // The worker consumes the BullMQ queues: without Redis there is nothing to consume (the API then delivers in-process).
    if (!options.config.redisUrl) throw new Error('The worker needs REDIS_URL (without Redis the API delivers email in-process).');
    const mailProcessor = createMailProcessor(options.config.redisUrl, options.mailWorker);
    return {
      module: WorkerModule,
      imports: [
        CoreModule.forRoot({
          config: options.config,
          http: false,
          entities: [
            ...AUTH_ENTITIES,
            ...TENANCY_ENTITIES,
            ...RBAC_ENTITIES,
            ...AUDIT_ENTITIES,
            ...MAIL_ENTITIES,
            ...INVITATIONS_ENTITIES,
            ...FLAGS_ENTITIES,
          ],
          migrations: MIGRATIONS,
        }),
        AuditModule,
        MailModule.forRoot({ config: options.config }),
      ],
      // Audit retention (AUDIT_RETENTION_DAYS), daily.
      // Mail: the processor of MAIL_QUEUE (the outbox relay runs here too), and the health endpoint.
      // (No alias provider of the processor: @nestjs/bullmq would start a second BullMQ worker for it.)
      providers: [
        AuditPruneJob,
        mailProcessor,
        {
          provide: WorkerHealthServer,
          inject: [APP_CONFIG, mailProcessor, DataSource, REDIS],
          useFactory: (config: AppConfig, processor: InstanceType<typeof mailProcessor>, dataSource: DataSource, redis: Redis | null) =>
            new WorkerHealthServer(config, processor, dataSource, redis),
        },
      ],
    };
  }
}
