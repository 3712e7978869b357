import { CanActivate, ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SaaSReadyAuthzClient } from './authz-client';
import { attachUser, SAASREADY_ACCESS, SaaSReadyRouteAccess } from './decorators';
import { SaaSReadyErrorCode, SaaSReadyException } from './errors';
import { ResolvedOptions, SAASREADY_OPTIONS } from './options';
import { bearerTokenOf, SaaSReadyTokenVerifier } from './token-verifier';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface HttpRequest {
  headers?: Record<string, string | string[] | undefined>;
  params?: Record<string, string | undefined>;
}

/**
 * Authenticates (local token verification) and authorizes (claims, or the service for `fresh` routes).
 * Deny by default: a route with neither @Public(), @Authenticated() nor @RequirePermission() is refused.
 * Registered for every route by SaaSReadyModule (guard: 'global', the default), or used with @UseGuards.
 */
@Injectable()
export class SaaSReadyAuthGuard implements CanActivate {
  private readonly logger = new Logger('SaaSReadyAuthGuard');

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: SaaSReadyTokenVerifier,
    private readonly authz: SaaSReadyAuthzClient,
    @Inject(SAASREADY_OPTIONS) private readonly options: ResolvedOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.reflector.getAllAndOverride<SaaSReadyRouteAccess | undefined>(SAASREADY_ACCESS, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!access) {
      this.logger.error(`${context.getClass().name}.${context.getHandler().name} declares no access rule: refused`);
      throw SaaSReadyException.forbidden('This route is not available.');
    }
    if (access.kind === 'public') return true;
    if (context.getType() !== 'http') {
      this.logger.error(`${context.getClass().name}.${context.getHandler().name}: only HTTP requests carry a token here: refused`);
      throw SaaSReadyException.forbidden('This route is not available.');
    }

    const request = context.switchToHttp().getRequest<HttpRequest>();
    const token = bearerTokenOf(request);
    if (!token)
      throw SaaSReadyException.unauthorized(
        SaaSReadyErrorCode.TokenInvalid,
        'A valid access token is required (Authorization: Bearer <token>).',
      );
    const user = await this.verifier.verify(token);
    attachUser(request, user, token);
    if (access.kind === 'authenticated') return true;

    const param = access.orgParam ?? this.options.orgParam;
    const pathOrg = request.params?.[param];
    if (access.fresh) {
      const orgId = pathOrg ?? user.orgId;
      if (!orgId || !UUID_RE.test(orgId)) throw SaaSReadyException.forbidden();
      if (!(await this.authz.check(token, orgId, access.permissions))) throw SaaSReadyException.forbidden();
      return true;
    }
    if (!user.orgId) throw SaaSReadyException.forbidden('The access token is not scoped to an organization; switch organization first.');
    if (pathOrg !== undefined && pathOrg.toLowerCase() !== user.orgId.toLowerCase()) {
      throw SaaSReadyException.forbidden('The access token is scoped to another organization; switch organization first.');
    }
    if (!access.permissions.every((p) => user.permissions.includes(p))) throw SaaSReadyException.forbidden();
    return true;
  }
}
