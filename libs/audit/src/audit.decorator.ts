import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import { OrgPermission } from '@saasready/core';
import { AUDIT_METADATA, AUDIT_READ_PERMISSION, AuditAction } from './audit.constants';
import { AuditInterceptor } from './audit.interceptor';
import { AuditOptions } from './audit.types';

export type { AuditOptions, AuditRequest, AuditSpec } from './audit.types';

/**
 * Marks a handler whose success is an audit event. AuditInterceptor runs the handler inside one
 * transaction (TransactionService.run: ambient, so the services it calls join it) and writes the row in
 * that same transaction after the handler returns: the change and its row commit together or not at
 * all (a handler that throws writes no row; a row that cannot be written rolls the change back).
 * The handler must return its result (no @Res()).
 *
 * The interceptor is attached to the marked handler only (not global): unmarked routes skip Nest's
 * interceptor chain (rxjs, an async scope per request) altogether.
 */
export function Audit<TResult = unknown>(action: AuditAction, options: AuditOptions<TResult>): MethodDecorator {
  return applyDecorators(
    SetMetadata(AUDIT_METADATA, { action, ...options }),
    UseInterceptors(AuditInterceptor),
    ApiExtension('x-audit-action', action),
  );
}

/**
 * The caller needs `audit.read` in the organization of the `{org_id}` path parameter (non-members 404
 * org_not_found, members without it 403 permission_denied). The core route-access metadata that
 * libs/rbac's @RequirePermission also writes (that decorator sits above this lib).
 */
export function RequireAuditRead(orgParam = 'org_id'): MethodDecorator & ClassDecorator {
  return OrgPermission(AUDIT_READ_PERMISSION, orgParam);
}
