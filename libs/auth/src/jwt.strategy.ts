import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import * as jwt from 'jsonwebtoken';
import { Strategy } from 'passport-jwt';
import { Actor, APP_CONFIG, AppConfig, AppException, ErrorCode, isUuid, TtlCache } from '@saasready/core';
import { SessionService } from './sessions/session.service';
import { KeyService } from './tokens/key.service';
import { ACCESS_ALGORITHMS, AccessClaims } from './tokens/token.service';

/** Exactly `Bearer <header>.<payload>.<signature>` (scheme case-insensitive): anything else is no token. */
const BEARER_RE = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i;

export function bearerTokenOf(req: { headers?: Record<string, string | string[] | undefined> }): string | null {
  const header = req.headers?.authorization;
  return typeof header === 'string' ? (BEARER_RE.exec(header)?.[1] ?? null) : null;
}

type VerifyCallback = (err: Error | null, payload?: AccessClaims) => void;
type Verifier = (token: string, key: unknown, options: unknown, callback: VerifyCallback) => void;

/**
 * Signature checks are the costliest step of an authenticated request (RS256 verify), and clients send
 * the same access token many times: a token that verified is remembered (by its exact bytes) until its
 * `exp`, so a repeat skips only the signature math. Every other check (kid still published, typ, the
 * session's live state) still runs on every request.
 */
const verifiedTokens = new TtlCache<{ token: string; claims: AccessClaims; kid: string }>(50_000, 15 * 60_000);

/**
 * The cache key of a token: the end of its signature. Hashing the whole token (about 900 characters, a
 * new string on every request) for the map lookup cost more than the rest of the lookup; a hit still
 * compares the whole token (`remembered`), so a token with a copied signature and another payload misses.
 */
const SIGNATURE_KEY_CHARS = 43;
function tokenKey(token: string): string {
  return token.slice(-SIGNATURE_KEY_CHARS);
}

function remembered(token: string): { claims: AccessClaims; kid: string } | undefined {
  const hit = verifiedTokens.get(tokenKey(token));
  return hit && hit.token === token ? hit : undefined;
}
const strategyStatics = Strategy as unknown as { JwtVerifier: Verifier };
const verifyUncached = strategyStatics.JwtVerifier;
strategyStatics.JwtVerifier = (token, key, options, callback) => {
  const hit = remembered(token);
  if (hit) return callback(null, hit.claims);
  verifyUncached(token, key, options, (err, payload) => {
    const now = Date.now();
    const kid = err ? undefined : jwt.decode(token, { complete: true })?.header.kid;
    if (!err && payload && typeof kid === 'string' && typeof payload.exp === 'number' && payload.exp * 1000 > now)
      verifiedTokens.set(tokenKey(token), { token, claims: payload, kid }, now, payload.exp * 1000 - now);
    callback(err, payload);
  });
};

/**
 * passport-jwt: RS256 only (alg allowlist), the key by `kid` from our published keys, `iss` and `aud`
 * checked, `exp` enforced; then `typ` and the session's live state (memory-cached).
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    private readonly keys: KeyService,
    private readonly sessions: SessionService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super({
      // passport-jwt's own extractor takes the first word after `Bearer` and ignores what follows.
      jwtFromRequest: bearerTokenOf,
      algorithms: ACCESS_ALGORITHMS,
      issuer: config.issuerUrl,
      audience: config.jwtAudience,
      ignoreExpiration: false,
      secretOrKeyProvider: (_req: unknown, rawJwt: string, done: (err: unknown, key?: string | Buffer) => void) => {
        const header = jwt.decode(rawJwt, { complete: true })?.header;
        if (!header || header.alg !== 'RS256' || typeof header.kid !== 'string') return done(new jwt.JsonWebTokenError('bad header'));
        keys.verificationKey(header.kid).then(
          (key) => (key ? done(null, key as unknown as Buffer) : done(new jwt.JsonWebTokenError('unknown kid'))),
          (e: unknown) => done(e),
        );
      },
    });
  }

  /**
   * The fast path of AccessGuard: the claims of a token that passport-jwt verified before (the same
   * bytes, not yet expired), provided its key is still published. undefined: go through passport.
   */
  verifiedBefore(token: string): AccessClaims | undefined {
    const hit = remembered(token);
    return hit && this.keys.isPublishedKid(hit.kid) ? hit.claims : undefined;
  }

  async validate(claims: AccessClaims): Promise<Actor> {
    if (
      claims.typ !== 'access' ||
      typeof claims.sub !== 'string' ||
      !isUuid(claims.sid) ||
      typeof claims.exp !== 'number' ||
      typeof claims.iat !== 'number' ||
      typeof claims.jti !== 'string'
    ) {
      throw AppException.unauthorized(ErrorCode.TokenInvalid, 'The access token is not valid.');
    }
    const cached = this.sessions.cachedState(claims.sid);
    const state = cached !== undefined ? cached : await this.sessions.state(claims.sid);
    if (!state || state.userId !== claims.sub) throw AppException.unauthorized(ErrorCode.TokenInvalid, 'The access token is not valid.');
    if (state.revoked || !state.userActive) throw AppException.unauthorized(ErrorCode.SessionRevoked, 'The session has been ended.');
    return { userId: state.userId, email: state.email, sessionId: claims.sid, currentOrgId: state.currentOrgId };
  }
}
