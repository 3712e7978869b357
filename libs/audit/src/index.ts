export * from './audit.constants';
export * from './audit.decorator';
export * from './audit.interceptor';
export * from './audit.service';
export * from './audit.module';
export * from './audit-prune.job';
export * from './audit-log.entity';
export * from './audit-logs.controller';
export * from './dto/audit-log.dto';
export { redactMetadata, isSecretKey, REDACTED } from './redaction';
export { canonicalJson, chainHash } from './chain';

import { AuditLogEntity } from './audit-log.entity';
export const AUDIT_ENTITIES = [AuditLogEntity];
