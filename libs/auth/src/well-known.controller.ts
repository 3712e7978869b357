import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
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
  @ApiOkResponse({
    description: 'The public keys (RS256) of the current signing key and of retired keys whose tokens may still be live.',
    schema: {
      type: 'object',
      required: ['keys'],
      properties: {
        keys: {
          type: 'array',
          items: {
            type: 'object',
            required: ['kty', 'kid', 'use', 'alg', 'n', 'e'],
            properties: {
              kty: { type: 'string', enum: ['RSA'] },
              kid: { type: 'string' },
              use: { type: 'string', enum: ['sig'] },
              alg: { type: 'string', enum: ['RS256'] },
              n: { type: 'string', description: 'Modulus (base64url)' },
              e: { type: 'string', description: 'Exponent (base64url)' },
            },
          },
        },
      },
    },
  })
  @ApiOperation({ operationId: 'getJwks', summary: 'The JSON Web Key Set of access-token signing keys' })
  jwks(): { keys: Record<string, string>[] } {
    return this.keys.jwks();
  }

  @Public()
  @Get('openid-configuration')
  @ApiOkResponse({
    schema: {
      type: 'object',
      required: ['issuer', 'jwks_uri', 'id_token_signing_alg_values_supported'],
      properties: {
        issuer: { type: 'string', description: 'The `iss` of access tokens (ISSUER_URL).' },
        jwks_uri: { type: 'string', format: 'uri' },
        id_token_signing_alg_values_supported: { type: 'array', items: { type: 'string', enum: ['RS256'] } },
      },
    },
  })
  @ApiOperation({ operationId: 'getOpenIdConfiguration', summary: 'Issuer and JWKS location' })
  openid(): { issuer: string; jwks_uri: string; id_token_signing_alg_values_supported: string[] } {
    return {
      issuer: this.config.issuerUrl,
      jwks_uri: `${this.config.issuerUrl}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ['RS256'],
    };
  }
}
