import { Actor, OrgScope, RequestContext } from '@saasready/core';

/** The authenticated caller (AccessGuard sets it before any non-public handler runs). */
export function currentActor(): Actor {
  const actor = RequestContext.actor();
  if (!actor) throw new Error('no authenticated actor in the request context (is the route declared @Authenticated?)');
  return actor;
}

/** The org of the path and the caller's role there (AccessGuard sets it for @RequirePermission routes). */
export function currentOrg(): OrgScope {
  const org = RequestContext.org();
  if (!org) throw new Error('no org scope in the request context (is the route declared @RequirePermission?)');
  return org;
}
