import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { defer, lastValueFrom, Observable } from 'rxjs';
import { isUuid, RequestContext, TransactionService } from '@saasready/core';
import { AuditTargetType } from './audit.constants';
import type { AuditRequest, AuditSpec } from './audit.types';
import { AUDIT_METADATA } from './audit.constants';
import { AuditEvent, AuditService } from './audit.service';

/**
 * The interceptor behind @Audit (attached by the decorator to the marked handler). For a marked handler it opens the transaction
 * (TransactionService.run, ambient through AsyncLocalStorage), runs the handler in it, then appends the
 * audit row in it; the response leaves only after the commit. Unmarked handlers pass through untouched.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly tx: TransactionService,
    private readonly audit: AuditService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const spec = this.reflector.get<AuditSpec | undefined>(AUDIT_METADATA, context.getHandler());
    if (!spec || context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<AuditRequest>();
    // The request's context (actor and org set by the guard; ambient on every route that may write, see
    // AmbientContextInterceptor); the transaction's context extends it.
    const ctx = RequestContext.current() ?? RequestContext.of(req);
    const work = () =>
      this.tx.run(async () => {
        // next.handle() binds the handler to the current async context: the transaction's.
        const result = await lastValueFrom(next.handle(), { defaultValue: undefined });
        await this.audit.record(eventFor(spec, req, result));
        return result;
      });
    return defer(() => (ctx ? RequestContext.run(ctx, work) : work()));
  }
}

function eventFor(spec: AuditSpec, req: AuditRequest, result: unknown): AuditEvent {
  const call = <T>(fn: ((req: AuditRequest, result: never) => T) | undefined): T | undefined => fn?.(req, result as never);
  const ctx = RequestContext.current();
  const pathOrg = req.params?.org_id;
  const orgId = call(spec.orgId) ?? ctx?.org?.orgId ?? (isUuid(pathOrg) ? pathOrg : undefined);
  let targetId = call(spec.targetId);
  if (targetId === undefined) {
    if (spec.targetType === AuditTargetType.Org) targetId = orgId ?? null;
    else if (spec.targetType === AuditTargetType.User) targetId = ctx?.actor?.userId ?? null;
  }
  return {
    action: spec.action,
    targetType: spec.targetType,
    targetId: targetId ?? null,
    // undefined: AuditService falls back to the caller's session org
    orgId,
    metadata: call(spec.metadata),
  };
}
