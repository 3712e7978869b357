import { Module } from '@nestjs/common';
import { AuditLogsController, SecurityEventsController } from './audit-logs.controller';
import { AuditInterceptor } from './audit.interceptor';
import { AuditService } from './audit.service';

/**
 * The audit log: AuditService (record, read, verify, prune), the @Audit interceptor (per route) and the
 * routes. Needs CoreModule (database, clock, config). Import it once per app; libs that record events
 * import it too (it is one module instance, so one interceptor).
 */
@Module({
  controllers: [AuditLogsController, SecurityEventsController],
  providers: [AuditService, AuditInterceptor],
  exports: [AuditService, AuditInterceptor],
})
export class AuditModule {}
