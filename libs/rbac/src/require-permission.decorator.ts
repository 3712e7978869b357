import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiForbiddenResponse } from '@nestjs/swagger';
import { OrgPermission, OrgPermissionOptions, ROUTE_ACCESS, RouteAccess } from '@saasready/core';
import { Permission } from './permissions';

/** The access rule of a permission route (`selfParam`: see OrgPermissionOptions.orSelf). */
export type PermissionRouteAccess = Extract<RouteAccess, { kind: 'permission' }>;

export type RequirePermissionOptions = OrgPermissionOptions;

/**
 * The caller needs `permission` (from the catalog) in the organization named by the `{org_id}` path
 * parameter. Non-members get 404 org_not_found, members without it 403 permission_denied.
 */
export function RequirePermission(
  permission: Permission,
  options: string | RequirePermissionOptions = {},
): MethodDecorator & ClassDecorator {
  return OrgPermission(permission, options);
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
