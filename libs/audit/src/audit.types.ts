import type { Actor } from '@saasready/core';
import type { AuditAction, AuditTargetType } from './audit.constants';

/** What the callbacks of @Audit see of the request. */
export interface AuditRequest {
  params: Record<string, string | undefined>;
  query: Record<string, unknown>;
  body: unknown;
  /** The signed-in caller (set by the access guard). */
  user?: Actor;
}

export interface AuditOptions<TResult = unknown> {
  targetType: AuditTargetType;
  /** The target's id. Default: the org (target_type org) or the caller (target_type user), else null. */
  targetId?: (req: AuditRequest, result: TResult) => string | null | undefined;
  /** Details for `metadata` (secrets are redacted anyway). */
  metadata?: (req: AuditRequest, result: TResult) => Record<string, unknown> | undefined;
  /** The org of the row. Default: the org of the path, else the caller's session org. */
  orgId?: (req: AuditRequest, result: TResult) => string | null | undefined;
}

export interface AuditSpec extends AuditOptions<never> {
  action: AuditAction;
}
