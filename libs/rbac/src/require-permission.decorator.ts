import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiForbiddenResponse, ApiNotFoundResponse, ApiParam, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ROUTE_ACCESS, RouteAccess } from '@saasready/core';
import { Permission } from './permissions';

/**
 * The access rule of a permission route. `selfParam`: when that path parameter is the caller's own user
 * id, membership of the org is enough (e.g. leaving an org needs no user.manage).
 */
export type PermissionRouteAccess = Extract<RouteAccess, { kind: 'permission' }> & { selfParam?: string };

export interface RequirePermissionOptions {
  /** The path parameter naming the organization (default `org_id`). */
  orgParam?: string;
  /** A path parameter that, when it equals the caller's user id, waives the permission (membership still needed). */
  orSelf?: string;
}

/**
 * The caller needs `permission` in the organization named by the `{org_id}` path parameter.
 * Non-members get 404 org_not_found, members without it 403 permission_denied. Documents itself in OpenAPI.
 */
export function RequirePermission(
  permission: Permission,
  options: string | RequirePermissionOptions = {},
): MethodDecorator & ClassDecorator {
  const { orgParam = 'org_id', orSelf } = typeof options === 'string' ? { orgParam: options } : options;
  const access: PermissionRouteAccess = { kind: 'permission', permission, orgParam, ...(orSelf ? { selfParam: orSelf } : {}) };
  const self = orSelf ? ` (not needed when \`${orSelf}\` is the caller's own id)` : '';
  return applyDecorators(
    SetMetadata(ROUTE_ACCESS, access),
    ApiBearerAuth(),
    ApiParam({ name: orgParam, format: 'uuid', description: 'Organization id' }),
    ApiExtension('x-permission', permission),
    ...(orSelf ? [ApiExtension('x-permission-self', orSelf)] : []),
    ApiUnauthorizedResponse({ description: 'Missing, invalid or expired access token, or a revoked session.' }),
    ApiForbiddenResponse({ description: `The caller lacks \`${permission}\` in this organization${self} (permission_denied).` }),
    ApiNotFoundResponse({ description: 'The organization does not exist or the caller is not a member (org_not_found).' }),
  );
}

/** Only instance admins (INSTANCE_ADMIN_EMAILS). */
export function RequireInstanceAdmin(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ROUTE_ACCESS, { kind: 'instance_admin' } satisfies RouteAccess),
    ApiBearerAuth(),
    ApiExtension('x-permission', 'instance_admin'),
    ApiForbiddenResponse({ description: 'Only instance admins (permission_denied).' }),
  );
}
