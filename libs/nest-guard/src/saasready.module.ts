import { DynamicModule, Inject, Logger, Module, OnModuleInit, Provider } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { APP_FILTER, APP_GUARD, DiscoveryModule, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { SaaSReadyAuthGuard } from './auth.guard';
import { SaaSReadyAuthzClient } from './authz-client';
import { SAASREADY_ACCESS } from './decorators';
import { SaaSReadyProblemFilter } from './errors';
import { JwksCache } from './jwks';
import { resolveOptions, ResolvedOptions, SAASREADY_OPTIONS, SaaSReadyModuleAsyncOptions, SaaSReadyModuleOptions } from './options';
import { SaaSReadyTokenVerifier } from './token-verifier';

const jwksProvider: Provider = {
  provide: JwksCache,
  inject: [SAASREADY_OPTIONS],
  useFactory: (o: ResolvedOptions) =>
    new JwksCache({
      url: o.jwksUrl,
      fetch: o.fetch,
      now: o.now,
      ttlMs: o.jwksCacheTtlMs,
      cooldownMs: o.jwksCooldownMs,
      timeoutMs: o.requestTimeoutMs,
    }),
};

const EXPORTS = [SAASREADY_OPTIONS, JwksCache, SaaSReadyTokenVerifier, SaaSReadyAuthzClient, SaaSReadyAuthGuard];

/**
 * Verifies SaaSReady access tokens in a host app and guards its routes. Global: the decorators, the
 * guard, SaaSReadyTokenVerifier and SaaSReadyAuthzClient are usable from any module.
 *
 *   SaaSReadyModule.forRoot({ baseUrl: 'http://localhost:8000' })
 */
@Module({ imports: [DiscoveryModule] })
export class SaaSReadyModule implements OnModuleInit {
  private readonly logger = new Logger('SaaSReadyModule');

  constructor(
    @Inject(SAASREADY_OPTIONS) private readonly options: ResolvedOptions,
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
  ) {}

  static forRoot(options: SaaSReadyModuleOptions): DynamicModule {
    const resolved = resolveOptions(options);
    return SaaSReadyModule.build({ provide: SAASREADY_OPTIONS, useValue: resolved }, resolved.guard, options.problemFilter ?? true, []);
  }

  /** Options from a factory (e.g. a ConfigService); `guard` and `problemFilter` are given here, not by the factory. */
  static forRootAsync(options: SaaSReadyModuleAsyncOptions): DynamicModule {
    const guard = options.guard ?? 'global';
    const provider: Provider = {
      provide: SAASREADY_OPTIONS,
      inject: options.inject ?? [],
      useFactory: async (...args: never[]) => resolveOptions({ ...(await options.useFactory(...args)), guard }),
    };
    return SaaSReadyModule.build(provider, guard, options.problemFilter ?? true, options.imports ?? []);
  }

  private static build(
    optionsProvider: Provider,
    guard: 'global' | 'none',
    problemFilter: boolean,
    imports: NonNullable<SaaSReadyModuleAsyncOptions['imports']>,
  ): DynamicModule {
    const providers: Provider[] = [optionsProvider, jwksProvider, SaaSReadyTokenVerifier, SaaSReadyAuthzClient, SaaSReadyAuthGuard];
    if (guard === 'global') providers.push({ provide: APP_GUARD, useExisting: SaaSReadyAuthGuard });
    if (problemFilter) providers.push({ provide: APP_FILTER, useClass: SaaSReadyProblemFilter });
    return { module: SaaSReadyModule, global: true, imports: [DiscoveryModule, ...imports], providers, exports: EXPORTS };
  }

  /** With the global guard: every route must declare its access rule (deny by default, found at start-up). */
  onModuleInit(): void {
    if (this.options.guard !== 'global') return;
    const missing = this.undeclaredRoutes();
    if (missing.length === 0) return;
    const message = `routes without @Public(), @Authenticated() or @RequirePermission() (they answer 403): ${missing.join(', ')}`;
    if (this.options.undeclaredRoutes === 'throw') throw new Error(`SaaSReadyModule: ${message}`);
    this.logger.warn(message);
  }

  private undeclaredRoutes(): string[] {
    const scanner = new MetadataScanner();
    const missing: string[] = [];
    const seen = new Set<unknown>();
    for (const wrapper of this.discovery.getControllers()) {
      const ctrl = wrapper.metatype as (abstract new (...args: never[]) => unknown) | null;
      if (!ctrl || seen.has(ctrl)) continue;
      seen.add(ctrl);
      const proto = ctrl.prototype as Record<string, () => unknown>;
      for (const name of scanner.getAllMethodNames(proto)) {
        const handler = proto[name];
        if (this.reflector.get(METHOD_METADATA, handler) === undefined || this.reflector.get(PATH_METADATA, handler) === undefined)
          continue;
        if (!this.reflector.getAllAndOverride(SAASREADY_ACCESS, [handler, ctrl])) missing.push(`${ctrl.name}.${name}`);
      }
    }
    return missing;
  }
}
