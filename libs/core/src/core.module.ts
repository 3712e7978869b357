import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { Clock } from './clock';
import { DatabaseModule, DatabaseModuleOptions } from './database/database.module';
import { RedisModule } from './cache/redis.module';
import { ProblemFilter } from './errors/problem.filter';
import { StrictValidationPipe } from './http/validation';
import { HealthController } from './health/health.controller';
import { MetricsController } from './metrics/metrics';
import { Global } from '@nestjs/common';

export interface CoreModuleOptions extends DatabaseModuleOptions {
  config: AppConfig;
  /** Serve /health (the API does; the worker has its own signal). */
  http?: boolean;
  /** Replace the clock (tests). */
  clock?: Clock;
}

@Global()
@Module({})
class ClockModule {}

/** Config, database, Redis, clock, problem+json errors, validation and health: what every app needs. */
@Module({})
export class CoreModule {
  static forRoot(options: CoreModuleOptions): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        ConfigModule.forRoot(options.config),
        DatabaseModule.forRoot(options),
        RedisModule,
        {
          module: ClockModule,
          global: true,
          providers: [{ provide: Clock, useValue: options.clock ?? new Clock() }],
          exports: [Clock],
        },
      ],
      controllers: options.http === false ? [] : [HealthController, MetricsController],
      providers: [
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_PIPE, useClass: StrictValidationPipe },
      ],
    };
  }
}
