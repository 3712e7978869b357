import type { FactoryProvider, ModuleMetadata } from '@nestjs/common';

/** The fetch function the module uses for every call to the service (JWKS, /authz/check). */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** `SaaSReadyModule.forRoot(options)`: where the service is and how tokens are checked. */
export interface SaaSReadyModuleOptions {
  /** The service's base URL as this app reaches it, e.g. `http://saasready:8000` (no `/api/v1`). */
  baseUrl: string;
  /** The `iss` tokens must carry: the service's `ISSUER_URL`. Default: `baseUrl`. */
  issuer?: string;
  /** The `aud` tokens must carry: the service's `JWT_AUDIENCE`. Default `saasready`. */
  audience?: string;
  /** Where the public keys are. Default `{baseUrl}/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** The service's `POST /authz/check` (for `fresh: true` routes). Default `{baseUrl}/api/v1/authz/check`. */
  authzCheckUrl?: string;
  /** Leeway for `exp`/`nbf` against this host's clock, in seconds. Default 5. */
  clockToleranceSec?: number;
  /** How long fetched keys are used before they are fetched again (in the background), in seconds. Default 300. */
  jwksCacheTtlSec?: number;
  /**
   * A token whose `kid` is not in the cache makes the module fetch the JWKS again (a key the service has
   * just rotated to), at most once per this many seconds (so random `kid`s cannot make it hammer the
   * service); the same pause follows a failed fetch. Default 10.
   */
  jwksCooldownSec?: number;
  /** Timeout of each call to the service, in milliseconds. Default 5000. */
  requestTimeoutMs?: number;
  /** The path parameter that names an organization on org-scoped routes. Default `org_id`. */
  orgParam?: string;
  /**
   * `global` (default): the guard runs on every route of the app (deny by default: each route needs
   * `@Public()`, `@Authenticated()` or `@RequirePermission()`). `none`: nothing is registered; put
   * `@UseGuards(SaaSReadyAuthGuard)` on the controllers you want protected.
   */
  guard?: 'global' | 'none';
  /**
   * With the global guard, what start-up does when a route declares no access rule: `throw` (default:
   * the app does not start) or `warn` (it logs the routes; they answer 403 at run time).
   */
  undeclaredRoutes?: 'throw' | 'warn';
  /** Register the filter that writes the module's 401/403/503 as application/problem+json. Default true. */
  problemFilter?: boolean;
  /** The HTTP client (default: global `fetch`). Wrap it to add headers, metrics or a proxy. */
  fetch?: FetchLike;
  /** The clock, in milliseconds since the epoch (default `Date.now`); tests move it. */
  now?: () => number;
}

/** forRootAsync: the options from a factory (e.g. your ConfigService); `guard` and the filter are fixed here. */
export interface SaaSReadyModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: FactoryProvider['inject'];
  useFactory: (...args: never[]) => SaaSReadyFactoryOptions | Promise<SaaSReadyFactoryOptions>;
  guard?: SaaSReadyModuleOptions['guard'];
  problemFilter?: boolean;
}

export type SaaSReadyFactoryOptions = Omit<SaaSReadyModuleOptions, 'guard' | 'problemFilter'>;

export interface ResolvedOptions {
  issuer: string;
  audience: string;
  jwksUrl: string;
  authzCheckUrl: string;
  clockToleranceSec: number;
  jwksCacheTtlMs: number;
  jwksCooldownMs: number;
  requestTimeoutMs: number;
  orgParam: string;
  guard: 'global' | 'none';
  undeclaredRoutes: 'throw' | 'warn';
  fetch: FetchLike;
  now: () => number;
}

export const SAASREADY_OPTIONS = Symbol('SAASREADY_OPTIONS');

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`SaaSReadyModule: ${name} must be a number >= 0`);
  return value;
}

/** Defaults and checks; a bad option stops the app at start with a message that names it. */
export function resolveOptions(options: SaaSReadyModuleOptions): ResolvedOptions {
  if (!options || typeof options.baseUrl !== 'string') throw new Error('SaaSReadyModule: baseUrl is required');
  let base: URL;
  try {
    base = new URL(options.baseUrl);
  } catch {
    throw new Error(`SaaSReadyModule: baseUrl is not a URL: ${options.baseUrl}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('SaaSReadyModule: baseUrl must be http(s)');
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetchFn = options.fetch ?? (globalThis.fetch as FetchLike | undefined);
  if (typeof fetchFn !== 'function') throw new Error('SaaSReadyModule: no fetch available (Node >= 20 has one; or pass options.fetch)');
  return {
    issuer: options.issuer ?? baseUrl,
    audience: options.audience ?? 'saasready',
    jwksUrl: options.jwksUrl ?? `${baseUrl}/.well-known/jwks.json`,
    authzCheckUrl: options.authzCheckUrl ?? `${baseUrl}/api/v1/authz/check`,
    clockToleranceSec: nonNegative('clockToleranceSec', options.clockToleranceSec, 5),
    jwksCacheTtlMs: nonNegative('jwksCacheTtlSec', options.jwksCacheTtlSec, 300) * 1000,
    jwksCooldownMs: nonNegative('jwksCooldownSec', options.jwksCooldownSec, 10) * 1000,
    requestTimeoutMs: nonNegative('requestTimeoutMs', options.requestTimeoutMs, 5000),
    orgParam: options.orgParam ?? 'org_id',
    guard: options.guard ?? 'global',
    undeclaredRoutes: options.undeclaredRoutes ?? 'throw',
    fetch: fetchFn,
    now: options.now ?? Date.now,
  };
}
