import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { Actor, OrgScope, RequestContext, RequestContextData } from './request-context';

function contextOf(ctx: ExecutionContext): RequestContextData | undefined {
  return RequestContext.of(ctx.switchToHttp().getRequest<object>());
}

/**
 * The authenticated caller, as AccessGuard set it (routes declared @Authenticated() or
 * @RequirePermission()). Handlers read the caller here, not from the ambient context: GET handlers run
 * without one.
 */
export const CurrentActor = createParamDecorator((_data: unknown, ctx: ExecutionContext): Actor => {
  const actor = contextOf(ctx)?.actor ?? ctx.switchToHttp().getRequest<{ user?: Actor }>().user;
  if (!actor) throw new Error('no authenticated actor on the request (is the route declared @Authenticated()?)');
  return actor;
});

/** The organization of the `{org_id}` path and the caller's role there (routes declared @RequirePermission()). */
export const CurrentOrg = createParamDecorator((_data: unknown, ctx: ExecutionContext): OrgScope => {
  const org = contextOf(ctx)?.org;
  if (!org) throw new Error('no org scope on the request (is the route declared @RequirePermission()?)');
  return org;
});
