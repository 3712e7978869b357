import { Logger, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, OpenAPIObject } from '@nestjs/swagger';
import {
  AppConfig,
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

export interface CreateApiOptions {
  clock?: Clock;
  /** Log each request (default: when LOG_LEVEL is info or finer). */
  logRequests?: boolean;
  /** Serve the Swagger UI at /docs (default true; the e2e runner cannot load its static-file plugin). */
  swaggerUi?: boolean;
}

export const API_PREFIX = 'api/v1';

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
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health/{*path}', method: RequestMethod.ALL },
      { path: '.well-known/{*path}', method: RequestMethod.ALL },
      { path: 'metrics', method: RequestMethod.GET },
    ],
  });
  configureHttp(app);
  const document = buildOpenApi(app);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs/openapi.json',
    useGlobalPrefix: false,
    swaggerUiEnabled: options.swaggerUi ?? true,
  });
  app.enableShutdownHooks();
  assertEveryRouteDeclaresAccess(app);
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

export function buildOpenApi(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('SaaSReady API')
    .setDescription(
      'Authentication and authorization for B2B SaaS. Errors are RFC 9457 application/problem+json with a stable `code`. ' +
        'Each route names the permission it needs in `x-permission` (`auth`: any signed-in user).',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  return SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controller, method) => method,
  });
}
