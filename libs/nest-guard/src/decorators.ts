import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { SaaSReadyUser } from './token-verifier';

/** Who may call a route (metadata read by SaaSReadyAuthGuard). */
export type SaaSReadyRouteAccess =
  | { kind: 'public' }
  | { kind: 'authenticated' }
  | { kind: 'permission'; permissions: readonly string[]; fresh: boolean; orgParam?: string };

export const SAASREADY_ACCESS = 'saasready-nest:access';

export interface RequirePermissionOptions {
  /**
   * Ask the service (`POST /api/v1/authz/check`, one request per call, nothing cached) instead of reading
   * the token's claims: the answer follows role changes, removals and logouts at once. For sensitive routes.
   */
  fresh?: boolean;
  /** The path parameter naming the organization (default: the module's `orgParam`, itself `org_id` by default). */
  orgParam?: string;
}

/** No token needed (health checks, webhooks, public pages). */
export const Public = () => SetMetadata(SAASREADY_ACCESS, { kind: 'public' } satisfies SaaSReadyRouteAccess);

/** Any valid access token. */
export const Authenticated = () => SetMetadata(SAASREADY_ACCESS, { kind: 'authenticated' } satisfies SaaSReadyRouteAccess);

/**
 * The caller needs `permission` (all of them, for an array) in the organization of the request:
 * - default (fast): read from the token's `permissions` for the token's `org_id`, with no call to the
 *   service. If the route has the org path parameter and it is not the token's `org_id`, 403 (the token
 *   says nothing about other organizations: switch organization at the service first).
 * - `{ fresh: true }`: asked of the service, for the path's organization (or else the token's).
 */
export const RequirePermission = (permission: string | readonly string[], options: RequirePermissionOptions = {}) => {
  const permissions = typeof permission === 'string' ? [permission] : [...permission];
  if (permissions.length === 0 || !permissions.every((p) => typeof p === 'string' && p.length > 0)) {
    throw new Error('RequirePermission: give at least one permission');
  }
  const access: SaaSReadyRouteAccess = { kind: 'permission', permissions, fresh: options.fresh === true, orgParam: options.orgParam };
  return SetMetadata(SAASREADY_ACCESS, access);
};

const users = new WeakMap<object, { user: SaaSReadyUser; token: string }>();

/** Called by the guard: the verified caller of this request. */
export function attachUser(request: object, user: SaaSReadyUser, token: string): void {
  users.set(request, { user, token });
}

/** The verified caller of a request (undefined on @Public routes), for code outside controllers. */
export function saasReadyUserOf(request: object): SaaSReadyUser | undefined {
  return users.get(request)?.user;
}

/** The caller's verified access token (to call the service on their behalf), or undefined. */
export function saasReadyTokenOf(request: object): string | undefined {
  return users.get(request)?.token;
}

/**
 * The caller (`SaaSReadyUser`), or one field of it: `@CurrentUser() user`, `@CurrentUser('orgId') orgId`.
 * Undefined on @Public routes.
 */
export const CurrentUser = createParamDecorator((field: keyof SaaSReadyUser | undefined, ctx: ExecutionContext) => {
  const user = saasReadyUserOf(ctx.switchToHttp().getRequest<object>());
  return field ? user?.[field] : user;
});
