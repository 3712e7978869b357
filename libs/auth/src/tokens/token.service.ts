import { Inject, Injectable } from '@nestjs/common';
import * as jwt from 'jsonwebtoken';
import { APP_CONFIG, AppConfig, Clock, newId } from '@saasready/core';
import { KeyService } from './key.service';

export interface AccessClaims {
  iss: string;
  aud: string;
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  typ: 'access';
  org_id: string | null;
  org_role: string | null;
  permissions: string[];
}

export interface AccessTokenInput {
  userId: string;
  sessionId: string;
  orgId: string | null;
  orgRole: string | null;
  permissions: string[];
}

export const ACCESS_ALGORITHMS: jwt.Algorithm[] = ['RS256'];

/** Signs access tokens (RS256, `kid` in the header, the claims of API.md). */
@Injectable()
export class TokenService {
  constructor(
    private readonly keys: KeyService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get accessTtlSeconds(): number {
    return Math.floor(this.config.accessTokenTtlMs / 1000);
  }

  signAccess(input: AccessTokenInput): string {
    const key = this.keys.signingKey();
    const iat = Math.floor(this.clock.nowMs() / 1000);
    const claims: AccessClaims = {
      iss: this.config.issuerUrl,
      aud: this.config.jwtAudience,
      sub: input.userId,
      sid: input.sessionId,
      jti: newId(),
      iat,
      exp: iat + this.accessTtlSeconds,
      typ: 'access',
      org_id: input.orgId,
      org_role: input.orgRole,
      permissions: input.permissions,
    };
    return jwt.sign(claims, key.privateKey, { algorithm: 'RS256', keyid: key.kid });
  }
}
