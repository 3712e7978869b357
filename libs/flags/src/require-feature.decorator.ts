import { applyDecorators, CanActivate, ExecutionContext, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiExtension, ApiNotFoundResponse } from '@nestjs/swagger';
import { AppException, ErrorCode, isUuid, RequestContext } from '@saasready/core';
import { FLAG_KEY_PATTERN, isFlagKey } from './flag-key';
import { FlagsService } from './flags.service';

export const FEATURE_FLAGS_METADATA = 'saasready:feature-flags';

/**
 * The route exists only for organizations where every named flag is on: otherwise 404 not_found, as if
 * there were no such route. The org is the one of the `{org_id}` path parameter (as the access guard
 * resolved it), else the caller's session org; a request with neither is 404 too. Put it beside the
 * route's access rule (@Authenticated, @RequirePermission, ...): the global access guard runs first, so an
 * anonymous caller gets 401 and a non-member 404 org_not_found before any flag is read. On a controller
 * and a handler both, every named flag must be on.
 */
export function RequireFeature(...keys: string[]): MethodDecorator & ClassDecorator {
  if (keys.length === 0) throw new Error('@RequireFeature needs at least one flag key');
  for (const key of keys) {
    if (!isFlagKey(key)) throw new Error(`@RequireFeature: "${key}" is not a flag key (${FLAG_KEY_PATTERN.source})`);
  }
  return applyDecorators(
    SetMetadata(FEATURE_FLAGS_METADATA, keys),
    UseGuards(FeatureGuard),
    ApiExtension('x-feature-flags', keys),
    ApiNotFoundResponse({ description: `Also when the feature flag(s) ${keys.join(', ')} are off for the organization (not_found).` }),
  );
}

/** The guard behind @RequireFeature (evaluation from FlagsService's memory cache). */
@Injectable()
export class FeatureGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly flags: FlagsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const keys = this.reflector.getAllAndMerge<string[]>(FEATURE_FLAGS_METADATA, [context.getHandler(), context.getClass()]);
    if (!keys?.length) return true;
    const orgId = requestOrgId(context);
    if (!orgId) throw notFound();
    for (const key of new Set(keys)) if (!(await this.flags.isEnabled(orgId, key))) throw notFound();
    return true;
  }
}

/** The org of the request: the access guard's (the `{org_id}` of a permission route), the `{org_id}` path parameter, else the session's. */
function requestOrgId(context: ExecutionContext): string | null {
  if (context.getType() !== 'http') return null;
  const req = context.switchToHttp().getRequest<{ params?: Record<string, unknown> }>();
  const ctx = RequestContext.of(req);
  const scoped = ctx?.org?.orgId;
  if (scoped) return scoped;
  const pathOrg = req.params?.org_id;
  if (isUuid(pathOrg)) return pathOrg.toLowerCase();
  return ctx?.actor?.currentOrgId ?? null;
}

function notFound(): AppException {
  return AppException.notFound(ErrorCode.NotFound, 'Not found.');
}
