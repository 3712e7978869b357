import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { ROUTE_ACCESS, RouteAccess } from '@saasready/core';
import type { TestApp } from './test-app';

export interface DiscoveredRoute {
  method: string;
  /** The served path, parameters as `{name}` (e.g. `/api/v1/orgs/{org_id}`). */
  path: string;
  /** The Fastify form (`:name`). */
  fastifyPath: string;
  access: (RouteAccess & { selfParam?: string }) | undefined;
  /** `Controller.method` */
  handler: string;
  controller: abstract new (...args: never[]) => unknown;
}

const join = (...parts: string[]) =>
  `/${parts
    .flatMap((p) => p.split('/'))
    .filter(Boolean)
    .join('/')}`;
const asList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : [v === undefined ? '' : String(v)]);

/**
 * Every HTTP route the app serves from a Nest controller, with its access declaration (Reflector
 * semantics: the handler's, else the controller's). The served path is confirmed against Fastify's route
 * table (with or without the global prefix, whichever Fastify has).
 */
export function discoverRoutes(t: TestApp, prefix = '/api/v1'): DiscoveredRoute[] {
  const fastify = t.app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  const scanner = new MetadataScanner();
  const seen = new Set<unknown>();
  const routes: DiscoveredRoute[] = [];
  for (const mod of t.app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const ctrl = wrapper.metatype as (abstract new (...args: never[]) => unknown) | null;
      if (!ctrl || seen.has(ctrl)) continue;
      seen.add(ctrl);
      const proto = ctrl.prototype as Record<string, unknown>;
      for (const name of scanner.getAllMethodNames(proto)) {
        const fn = proto[name] as object;
        const verb = Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod | undefined;
        if (verb === undefined || !Reflect.hasMetadata(PATH_METADATA, fn)) continue;
        const access =
          (Reflect.getMetadata(ROUTE_ACCESS, fn) as RouteAccess | undefined) ??
          (Reflect.getMetadata(ROUTE_ACCESS, ctrl) as RouteAccess | undefined);
        for (const base of asList(Reflect.getMetadata(PATH_METADATA, ctrl))) {
          for (const sub of asList(Reflect.getMetadata(PATH_METADATA, fn))) {
            const methods = verb === RequestMethod.ALL ? ['GET'] : [RequestMethod[verb]];
            for (const method of methods) {
              const candidates = [join(prefix, base, sub), join(base, sub)];
              const served = candidates.find((url) => fastify.hasRoute({ method: method as HTTPMethods, url }));
              if (!served) throw new Error(`${ctrl.name}.${name}: ${method} ${candidates.join(' or ')} is not in Fastify's route table`);
              routes.push({
                method,
                path: served.replace(/:([A-Za-z0-9_]+)/g, '{$1}'),
                fastifyPath: served,
                access,
                handler: `${ctrl.name}.${name}`,
                controller: ctrl,
              });
            }
          }
        }
      }
    }
  }
  const order = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
  return routes.sort((x, y) => x.path.localeCompare(y.path) || order.indexOf(x.method) - order.indexOf(y.method));
}

/** How the permission table writes an access rule. */
export function describeAccess(access: DiscoveredRoute['access']): string {
  if (!access) return 'NONE (refused)';
  switch (access.kind) {
    case 'public':
      return 'public';
    case 'authenticated':
      return 'auth';
    case 'instance_admin':
      return 'instance admin';
    case 'permission':
      return `\`${access.permission}\`${access.selfParam ? ` (or self: \`{${access.selfParam}}\` is the caller)` : ''}`;
  }
}
