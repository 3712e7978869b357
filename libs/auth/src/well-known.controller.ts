import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { APP_CONFIG, AppConfig, Public } from '@saasready/core';
import { KeyService } from './tokens/key.service';

/** Public keys for host apps that verify access tokens themselves. Served without the /api/v1 prefix. */
@ApiTags('well-known')
@Controller('.well-known')
export class WellKnownController {
  constructor(
    private readonly keys: KeyService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Public()
  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ operationId: 'getJwks', summary: 'The JSON Web Key Set of access-token signing keys' })
  jwks(): { keys: Record<string, string>[] } {
    return this.keys.jwks();
  }

  @Public()
  @Get('openid-configuration')
  @ApiOperation({ operationId: 'getOpenIdConfiguration', summary: 'Issuer and JWKS location' })
  openid(): { issuer: string; jwks_uri: string; id_token_signing_alg_values_supported: string[] } {
    return {
      issuer: this.config.issuerUrl,
      jwks_uri: `${this.config.issuerUrl}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ['RS256'],
    };
  }
}
