import { Logger, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, OpenAPIObject } from '@nestjs/swagger';
import {
  AppConfig,
  applyAmbientContext,
  assertEveryRouteDeclaresAccess,
  Clock,
  configureHttp,
  createFastifyAdapter,
  createPino,
  EmbeddedPostgres,
  PinoLogger,
} from '@saasready/core';
import { KeyService } from '@saasready/auth';
import { ApiModule } from './api.module';
import { finishOpenApi } from './openapi';

export interface CreateApiOptions {
  clock?: Clock;
  /** Log each request (default: when LOG_LEVEL is info or finer). */
  logRequests?: boolean;
  /** Serve the Swagger UI at /docs (default true; the e2e runner cannot load its static-file plugin). */
  swaggerUi?: boolean;
}

export const API_PREFIX = 'api/v1';
/** Served at the root, not under API_PREFIX (also used by scripts/openapi.mjs). */
export const UNPREFIXED_ROUTES = [
  { path: 'health/{*path}', method: RequestMethod.ALL },
  { path: '.well-known/{*path}', method: RequestMethod.ALL },
  { path: 'metrics', method: RequestMethod.GET },
];

/** Builds the API application (used by main, the OpenAPI script and the e2e tests). */
export async function createApiApp(config: AppConfig, options: CreateApiOptions = {}): Promise<NestFastifyApplication> {
  const pino = createPino(config.logLevel);
  const logger = new PinoLogger(pino);
  Logger.overrideLogger(logger);
  const adapter = createFastifyAdapter(config, pino, options.logRequests ?? ['info', 'debug', 'trace'].includes(config.logLevel));
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.forRoot({ config, clock: options.clock }), adapter, {
    logger,
    bufferLogs: false,
    abortOnError: false,
    bodyParser: false,
  });
  app.setGlobalPrefix(API_PREFIX, { exclude: UNPREFIXED_ROUTES });
  configureHttp(app);
  const document = buildOpenApi(app);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs/openapi.json',
    useGlobalPrefix: false,
    swaggerUiEnabled: options.swaggerUi ?? true,
  });
  app.enableShutdownHooks();
  assertEveryRouteDeclaresAccess(app);
  applyAmbientContext(app);
  await app.init();
  await app.get(KeyService).ensureReady();
  const embedded = config.databaseMode === 'embedded' ? EmbeddedPostgres.for(config.dataDir) : undefined;
  const close = app.close.bind(app);
  app.close = async () => {
    await close();
    await embedded?.stop();
  };
  return app;
}

/** The tags of the document, in the order the docs show them. */
const OPENAPI_TAGS: [name: string, description: string][] = [
  ['auth', 'Accounts, sign-in, tokens and sessions.'],
  ['two-factor', 'TOTP two-factor login and backup codes.'],
  ['organizations', "Organizations (tenants); the caller's role in each."],
  ['members', 'Members of an organization and their roles.'],
  ['roles', 'Built-in and custom roles of an organization.'],
  ['permissions', 'The permission catalog.'],
  ['authz', 'Authorization checks for host applications.'],
  ['invitations', 'Invitations by email.'],
  ['audit', 'The tamper-evident audit log.'],
  ['feature-flags', 'Global flag definitions and per-organization overrides.'],
  ['well-known', 'Public keys for verifying access tokens locally (no /api/v1 prefix).'],
];

const OPENAPI_DESCRIPTION = `Authentication and authorization for B2B SaaS.

- **Auth**: \`Authorization: Bearer <access_token>\` (an RS256 JWT; public keys at \`/.well-known/jwks.json\`). Get tokens
  from \`register\`, \`login\` or \`refresh\`; refresh tokens are single use (each refresh returns a new one).
- **Access**: every operation names what the caller needs in \`x-permission\`: \`public\` (no token), \`auth\` (any signed-in
  user), \`instance_admin\`, or a permission (e.g. \`org.update\`) in the organization of the \`{org_id}\` path parameter.
  A non-member of that organization gets 404 \`org_not_found\`, a member without the permission 403 \`permission_denied\`.
- **Errors**: RFC 9457 \`application/problem+json\` (the \`Problem\` schema) with a stable snake_case \`code\`;
  400 \`validation_failed\` lists field problems in \`errors\`. 429s carry \`Retry-After\`.
- **Lists**: \`{data, next_cursor}\`. Lists that can grow (organizations, members, invitations, audit logs, security events)
  are paged with \`?limit=\` (1..200, default 50) and \`?cursor=\` (the previous page's \`next_cursor\`; null on the last
  page). Short lists (roles, permissions, sessions, flags) come whole with \`next_cursor: null\`.
- Every response carries \`X-Request-Id\`. Field names are snake_case; timestamps ISO 8601 UTC; ids UUIDs.`;

export function buildOpenApi(app: NestFastifyApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('SaaSReady API')
    .setDescription(OPENAPI_DESCRIPTION)
    .setVersion('1')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addServer('/', 'The instance serving this document (`/docs/openapi.json`); e.g. http://localhost:8000 for `npm start`')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token (RS256 JWT).' }, 'bearer');
  for (const [name, description] of OPENAPI_TAGS) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build(), {
    operationIdFactory: (_controller, method) => method,
  });
  return finishOpenApi(document);
}
