import { Inject, Injectable } from '@nestjs/common';
import * as jwt from 'jsonwebtoken';
import { SaaSReadyErrorCode, SaaSReadyException } from './errors';
import { JwksCache, JwksUnavailableError } from './jwks';
import { ResolvedOptions, SAASREADY_OPTIONS } from './options';

/** The caller, from the access token's claims (a snapshot taken when the token was issued). */
export interface SaaSReadyUser {
  /** `sub` */
  userId: string;
  /** `sid`: the session (ended at the service by logout; see README "Revocation"). */
  sessionId: string;
  /** `org_id`: the session's current organization, or null. */
  orgId: string | null;
  /** `org_role`: the role name in that organization, or null. */
  role: string | null;
  /** `permissions`: the permissions in that organization. */
  permissions: readonly string[];
  /** `email`, when the token carries one (the service's tokens do not today). */
  email?: string;
  /** `jti` */
  tokenId: string;
  issuedAt: Date;
  expiresAt: Date;
}

/** Exactly `Bearer <header>.<payload>.<signature>` (scheme case-insensitive); anything else is no token. */
const BEARER_RE = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i;
const MAX_TOKEN_LENGTH = 16_384;

/** The access token of a request's `Authorization` header, or null. */
export function bearerTokenOf(req: { headers?: Record<string, string | string[] | undefined> }): string | null {
  const header = req?.headers?.authorization;
  if (typeof header !== 'string' || header.length > MAX_TOKEN_LENGTH + 7) return null;
  return BEARER_RE.exec(header)?.[1] ?? null;
}

const invalid = () => SaaSReadyException.unauthorized(SaaSReadyErrorCode.TokenInvalid, 'The access token is not valid.');
const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isStringOrNull = (v: unknown): v is string | null => v === null || isString(v);

/**
 * Verifies SaaSReady access tokens locally: RS256 only (the header's `alg` is never trusted: anything
 * else, `none` and HMAC included, is refused before any key is used), the key by `kid` from the JWKS
 * cache, `iss`, `aud`, `exp` (required), `nbf`, `typ: "access"` and the claims' shapes. No call to the
 * service once the key is cached. Use it directly for non-HTTP transports (WebSocket handshakes, queues).
 */
@Injectable()
export class SaaSReadyTokenVerifier {
  constructor(
    @Inject(SAASREADY_OPTIONS) private readonly options: ResolvedOptions,
    private readonly jwks: JwksCache,
  ) {}

  /** The caller of a valid access token; throws SaaSReadyException (401 token_invalid / token_expired, 503). */
  async verify(token: string): Promise<SaaSReadyUser> {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw invalid();
    let header: jwt.JwtHeader | undefined;
    try {
      header = jwt.decode(token, { complete: true })?.header;
    } catch {
      throw invalid();
    }
    if (!header || header.alg !== 'RS256' || !isString(header.kid) || header.kid.length > 256) throw invalid();

    let key;
    try {
      key = await this.jwks.getKey(header.kid);
    } catch (e) {
      if (e instanceof JwksUnavailableError) throw SaaSReadyException.unavailable();
      throw e;
    }
    if (!key) throw invalid();

    let claims: jwt.JwtPayload;
    try {
      const verified = jwt.verify(token, key, {
        algorithms: ['RS256'],
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockToleranceSec,
        clockTimestamp: Math.floor(this.options.now() / 1000),
      });
      if (typeof verified !== 'object' || verified === null) throw invalid();
      claims = verified;
    } catch (e) {
      if (e instanceof jwt.TokenExpiredError) {
        throw SaaSReadyException.unauthorized(SaaSReadyErrorCode.TokenExpired, 'The access token has expired.');
      }
      throw invalid();
    }
    return userOf(claims);
  }
}

function userOf(c: jwt.JwtPayload): SaaSReadyUser {
  const permissions: unknown = c.permissions;
  const role: unknown = c.org_role ?? null;
  if (
    c.typ !== 'access' ||
    !isString(c.sub) ||
    !isString(c.sid) ||
    !isString(c.jti) ||
    typeof c.exp !== 'number' ||
    typeof c.iat !== 'number' ||
    !isStringOrNull(c.org_id) ||
    !isStringOrNull(role) ||
    !Array.isArray(permissions) ||
    !permissions.every(isString)
  ) {
    throw invalid();
  }
  const user: SaaSReadyUser = {
    userId: c.sub,
    sessionId: c.sid,
    orgId: c.org_id,
    role,
    permissions: Object.freeze([...permissions]),
    tokenId: c.jti,
    issuedAt: new Date(c.iat * 1000),
    expiresAt: new Date(c.exp * 1000),
  };
  if (isString(c.email)) user.email = c.email;
  return Object.freeze(user);
}
