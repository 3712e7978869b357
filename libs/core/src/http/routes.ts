import { INestApplication } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';

type ControllerClass = abstract new (...args: never[]) => unknown;

/** Calls `fn` once for every route handler of the application's controllers (before or after init). */
export function forEachRoute(app: INestApplication, fn: (handler: object, controller: ControllerClass, name: string) => void): void {
  const scanner = new MetadataScanner();
  const seen = new Set<unknown>();
  for (const mod of app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const ctrl = wrapper.metatype as ControllerClass | null;
      if (!ctrl || seen.has(ctrl)) continue;
      seen.add(ctrl);
      const proto = ctrl.prototype as Record<string, object>;
      for (const name of scanner.getAllMethodNames(proto)) {
        const handler = proto[name];
        if (Reflect.getMetadata(METHOD_METADATA, handler) === undefined || !Reflect.hasMetadata(PATH_METADATA, handler)) continue;
        fn(handler, ctrl, name);
      }
    }
  }
}
