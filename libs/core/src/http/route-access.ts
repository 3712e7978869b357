import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';

/**
 * Who may call a route. Every route declares one (deny by default): a route without it is refused at
 * start-up (assertEveryRouteDeclaresAccess) and by the guard.
 */
export type RouteAccess =
  | { kind: 'public' }
  | { kind: 'authenticated' }
  | { kind: 'permission'; permission: string; orgParam: string }
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
