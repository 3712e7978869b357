import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiForbiddenResponse, ApiNotFoundResponse, ApiParam, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ROUTE_ACCESS, RouteAccess } from '@saasready/core';
import { Permission } from './permissions';

/**
 * The caller needs `permission` in the organization named by the `{org_id}` path parameter.
 * Non-members get 404 org_not_found, members without it 403 permission_denied. Documents itself in OpenAPI.
 */
export function RequirePermission(permission: Permission, orgParam = 'org_id'): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(ROUTE_ACCESS, { kind: 'permission', permission, orgParam } satisfies RouteAccess),
    ApiBearerAuth(),
    ApiParam({ name: orgParam, format: 'uuid', description: 'Organization id' }),
    ApiExtension('x-permission', permission),
    ApiUnauthorizedResponse({ description: 'Missing, invalid or expired access token, or a revoked session.' }),
    ApiForbiddenResponse({ description: `The caller lacks \`${permission}\` in this organization (permission_denied).` }),
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
