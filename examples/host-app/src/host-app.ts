import { DynamicModule, LoggerService, LogLevel, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { type FetchLike, SaaSReadyModule } from '@saasready/nest';
import { HealthController, OrgController, ProjectsController } from './controllers';
import { ProjectsService } from './projects.service';

export interface HostAppOptions {
  /** SaaSReady's base URL as this app reaches it, e.g. http://localhost:8000. */
  saasreadyUrl: string;
  /** SaaSReady's ISSUER_URL when it differs from saasreadyUrl (e.g. a public URL behind a proxy). */
  issuer?: string;
  /** SaaSReady's JWT_AUDIENCE (default saasready). */
  audience?: string;
  /** The HTTP client for calls to SaaSReady (tests count them). */
  fetch?: FetchLike;
  /** The clock (tests move it). */
  now?: () => number;
  logger?: LoggerService | LogLevel[] | false;
}

@Module({})
export class HostAppModule {
  static forRoot(options: HostAppOptions): DynamicModule {
    return {
      module: HostAppModule,
      imports: [
        // The guard runs on every route (deny by default); 401/403 leave as application/problem+json.
        SaaSReadyModule.forRoot({
          baseUrl: options.saasreadyUrl,
          issuer: options.issuer,
          audience: options.audience,
          orgParam: 'orgId',
          fetch: options.fetch,
          now: options.now,
        }),
      ],
      controllers: [HealthController, ProjectsController, OrgController],
      providers: [ProjectsService],
    };
  }
}

/** The example app, initialized (not listening): main.ts listens; the e2e test drives it in-process. */
export async function createHostApp(options: HostAppOptions): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(HostAppModule.forRoot(options), new FastifyAdapter(), {
    logger: options.logger ?? ['log', 'warn', 'error'],
    abortOnError: false,
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
