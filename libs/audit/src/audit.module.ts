import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AuditLogsController, SecurityEventsController } from './audit-logs.controller';
import { AuditInterceptor } from './audit.interceptor';
import { AuditService } from './audit.service';

/**
 * The audit log: AuditService (record, read, verify, prune), the @Audit interceptor (global) and the
 * routes. Needs CoreModule (database, clock, config). Import it once per app; libs that record events
 * import it too (it is one module instance, so one interceptor).
 */
@Module({
  controllers: [AuditLogsController, SecurityEventsController],
  providers: [AuditService, { provide: APP_INTERCEPTOR, useClass: AuditInterceptor }],
  exports: [AuditService],
})
export class AuditModule {}
