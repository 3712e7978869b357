import { Inject, Injectable, Logger } from '@nestjs/common';
import { SaaSReadyErrorCode, SaaSReadyException } from './errors';
import { ResolvedOptions, SAASREADY_OPTIONS } from './options';

const PASSED_ON_401 = new Set<string>([
  SaaSReadyErrorCode.TokenInvalid,
  SaaSReadyErrorCode.TokenExpired,
  SaaSReadyErrorCode.SessionRevoked,
]);

/**
 * `POST /api/v1/authz/check` on the service, with the caller's own token: "is this caller allowed to do
 * these things in this organization, now?" The answer reflects the current membership, role and session
 * (a revoked session is 401 session_revoked). Nothing is cached: every call is one request to the service.
 */
@Injectable()
export class SaaSReadyAuthzClient {
  private readonly logger = new Logger('SaaSReadyAuthz');

  constructor(@Inject(SAASREADY_OPTIONS) private readonly options: ResolvedOptions) {}

  /**
   * Whether the token's user holds every one of `permissions` in `orgId` now. Permissions must be in the
   * service's catalog (GET /api/v1/permissions). Throws SaaSReadyException: 401 when the service refuses
   * the token (its code is passed on), 503 when it cannot be asked.
   */
  async check(token: string, orgId: string, permissions: readonly string[]): Promise<boolean> {
    if (permissions.length === 0) return true;
    const body =
      permissions.length === 1
        ? { org_id: orgId, permission: permissions[0] }
        : { checks: permissions.map((permission) => ({ org_id: orgId, permission })) };
    let res: Response;
    let answer: { allowed?: unknown; results?: { allowed?: unknown }[]; code?: unknown; detail?: unknown };
    try {
      res = await this.options.fetch(this.options.authzCheckUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      answer = (await res.json()) as typeof answer;
    } catch (e) {
      this.logger.warn(`POST ${this.options.authzCheckUrl} failed: ${e instanceof Error ? e.message : String(e)}`);
      throw SaaSReadyException.unavailable();
    }
    if (res.status === 200) {
      if (permissions.length === 1 && typeof answer.allowed === 'boolean') return answer.allowed;
      if (Array.isArray(answer.results) && answer.results.length === permissions.length)
        return answer.results.every((r) => r?.allowed === true);
    } else if (res.status === 401) {
      const code = typeof answer.code === 'string' && PASSED_ON_401.has(answer.code) ? answer.code : SaaSReadyErrorCode.TokenInvalid;
      throw SaaSReadyException.unauthorized(code, typeof answer.detail === 'string' ? answer.detail : 'The access token is not valid.');
    } else if (res.status === 400) {
      // Our request was refused: a permission outside the service's catalog (a bug in this app's routes).
      this.logger.error(`POST ${this.options.authzCheckUrl} refused [${permissions.join(', ')}]: ${JSON.stringify(answer)}`);
      throw new SaaSReadyException(500, SaaSReadyErrorCode.InternalError, 'The permission check could not be made.');
    }
    this.logger.warn(`POST ${this.options.authzCheckUrl} answered ${res.status}`);
    throw SaaSReadyException.unavailable();
  }
}
