import { INestApplication } from '@nestjs/common';
import { forEachRoute } from './routes';
import { ROUTE_ACCESS } from './route-access';

/**
 * Deny by default, at start-up: every controller route must declare @Public(), @Authenticated(),
 * @RequirePermission() or @RequireInstanceAdmin(). A route without one stops the process here (the
 * AccessGuard would refuse it anyway; this makes the mistake impossible to ship).
 */
export function assertEveryRouteDeclaresAccess(app: INestApplication): void {
  const missing: string[] = [];
  forEachRoute(app, (handler, ctrl, name) => {
    if (!Reflect.getMetadata(ROUTE_ACCESS, handler) && !Reflect.getMetadata(ROUTE_ACCESS, ctrl)) missing.push(`${ctrl.name}.${name}`);
  });
  if (missing.length) {
    throw new Error(`Routes without an access rule (add @Public(), @Authenticated() or @RequirePermission()): ${missing.join(', ')}`);
  }
}
