import { ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Actor, AppException, ErrorCode, RequestContext, ROUTE_ACCESS, RouteAccess } from '@saasready/core';
import { OrgAccessService } from '@saasready/tenancy';
import { JwtStrategy } from './jwt.strategy';

type AuthedRequest = FastifyRequest & { user?: Actor };

/**
 * The one global guard (APP_GUARD). Deny by default: a route must declare @Public(), @Authenticated(),
 * @RequirePermission() or @RequireInstanceAdmin(). Authentication is passport-jwt; authorization of
 * org routes is OrgAccessService.
 */
@Injectable()
export class AccessGuard extends AuthGuard('jwt') {
  private readonly logger = new Logger('AccessGuard');

  constructor(
    private readonly reflector: Reflector,
    private readonly orgAccess: OrgAccessService,
    private readonly jwtStrategy: JwtStrategy,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, [context.getHandler(), context.getClass()]);
    if (!access) {
      this.logger.error(`route ${context.getClass().name}.${context.getHandler().name} declares no access rule: refused`);
      throw AppException.forbidden('This route is not available.');
    }
    if (access.kind === 'public') return true;
    const request = context.switchToHttp().getRequest<AuthedRequest>();
    // A token passport-jwt verified before skips passport (and the JWT decoding); the session and user
    // checks of validate() still run on every request.
    const header = request.headers.authorization;
    const known = typeof header === 'string' && header.startsWith('Bearer ') ? this.jwtStrategy.verifiedBefore(header.slice(7)) : undefined;
    if (known) request.user = await this.jwtStrategy.validate(known);
    else await super.canActivate(context);
    const actor = request.user!;
    const ctx = RequestContext.of(request);
    if (ctx) ctx.actor = actor;
    if (access.kind === 'authenticated') return true;
    const org = await this.orgAccess.authorize(access, actor, (request.params ?? {}) as Record<string, string>);
    if (ctx && org) ctx.org = org;
    return true;
  }

  override handleRequest<TUser = Actor>(err: unknown, user: TUser | false, info: unknown): TUser {
    if (err) throw err instanceof AppException ? err : AppException.unauthorized(ErrorCode.TokenInvalid, 'The access token is not valid.');
    if (!user) {
      const name = (info as { name?: string } | undefined)?.name;
      if (name === 'TokenExpiredError') throw AppException.unauthorized(ErrorCode.TokenExpired, 'The access token has expired.');
      throw AppException.unauthorized(ErrorCode.TokenInvalid, 'A valid access token is required (Authorization: Bearer <token>).');
    }
    return user;
  }
}
