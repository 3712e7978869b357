import { applyDecorators, SetMetadata } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtension,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiParam,
  ApiSecurity,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';

/**
 * Who may call a route. Every route declares one (deny by default): a route without it is refused at
 * start-up (assertEveryRouteDeclaresAccess) and by the guard.
 */
export type RouteAccess =
  | { kind: 'public' }
  | { kind: 'authenticated' }
  | { kind: 'permission'; permission: string; orgParam: string; selfParam?: string }
  | { kind: 'instance_admin' };

export const ROUTE_ACCESS = 'saasready:route-access';

/** No token needed. */
export const Public = () => applyDecorators(SetMetadata(ROUTE_ACCESS, { kind: 'public' } satisfies RouteAccess), ApiSecurity({}));

/** Any signed-in user (API.md "auth"). */
export const Authenticated = () =>
  applyDecorators(
    SetMetadata(ROUTE_ACCESS, { kind: 'authenticated' } satisfies RouteAccess),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ description: 'Missing, invalid or expired access token, or a revoked session.' }),
    ApiExtension('x-permission', 'auth'),
  );

export interface OrgPermissionOptions {
  /** The path parameter naming the organization (default `org_id`). */
  orgParam?: string;
  /** A path parameter that, when it equals the caller's user id, waives the permission (membership still needed). */
  orSelf?: string;
}

/**
 * The caller needs `permission` in the organization named by the `{org_id}` path parameter. Non-members
 * get 404 org_not_found, members without it 403 permission_denied. Documents itself in OpenAPI. Libs use
 * their typed wrappers: @RequirePermission (libs/rbac), @RequireAuditRead (libs/audit, below rbac).
 */
export function OrgPermission(permission: string, options: string | OrgPermissionOptions = {}): MethodDecorator & ClassDecorator {
  const { orgParam = 'org_id', orSelf } = typeof options === 'string' ? { orgParam: options } : options;
  const access: RouteAccess = { kind: 'permission', permission, orgParam, ...(orSelf ? { selfParam: orSelf } : {}) };
  const self = orSelf ? ` (not needed when \`${orSelf}\` is the caller's own id)` : '';
  return applyDecorators(
    SetMetadata(ROUTE_ACCESS, access),
    ApiBearerAuth(),
    ApiParam({ name: orgParam, type: String, format: 'uuid', description: 'Organization id' }),
    ApiExtension('x-permission', permission),
    ...(orSelf ? [ApiExtension('x-permission-self', orSelf)] : []),
    ApiUnauthorizedResponse({ description: 'Missing, invalid or expired access token, or a revoked session.' }),
    ApiForbiddenResponse({ description: `The caller lacks \`${permission}\` in this organization${self} (permission_denied).` }),
    ApiNotFoundResponse({ description: 'The organization does not exist or the caller is not a member (org_not_found).' }),
  );
}
