import { INestApplication } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import { ROUTE_ACCESS } from './route-access';

/**
 * Deny by default, at start-up: every controller route must declare @Public(), @Authenticated(),
 * @RequirePermission() or @RequireInstanceAdmin(). A route without one stops the process here (the
 * AccessGuard would refuse it anyway; this makes the mistake impossible to ship).
 */
export function assertEveryRouteDeclaresAccess(app: INestApplication): void {
  const scanner = new MetadataScanner();
  const missing: string[] = [];
  const seen = new Set<unknown>();
  for (const mod of app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const ctrl = wrapper.metatype as (abstract new (...args: never[]) => unknown) | null;
      if (!ctrl || seen.has(ctrl)) continue;
      seen.add(ctrl);
      const proto = ctrl.prototype as Record<string, object>;
      for (const name of scanner.getAllMethodNames(proto)) {
        const fn = proto[name];
        if (Reflect.getMetadata(METHOD_METADATA, fn) === undefined || !Reflect.hasMetadata(PATH_METADATA, fn)) continue;
        if (!Reflect.getMetadata(ROUTE_ACCESS, fn) && !Reflect.getMetadata(ROUTE_ACCESS, ctrl)) missing.push(`${ctrl.name}.${name}`);
      }
    }
  }
  if (missing.length) {
    throw new Error(`Routes without an access rule (add @Public(), @Authenticated() or @RequirePermission()): ${missing.join(', ')}`);
  }
}
