import { DynamicModule, Global, Inject, Injectable, Logger, Module, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { EntityList, MigrationList, postgresOptions } from './data-source-options';
import { EmbeddedPostgres } from './embedded-postgres';
import { TransactionService } from './transaction.service';

export interface DatabaseModuleOptions {
  entities: EntityList;
  migrations: MigrationList;
  /** `serve` refuses to start on a database whose migrations are behind (unless it runs them itself). */
  migrationPolicy?: 'serve' | 'none';
}

const DB_OPTIONS = Symbol('DB_OPTIONS');

@Injectable()
class MigrationGate implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Database');
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DB_OPTIONS) private readonly options: DatabaseModuleOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.migrationPolicy === 'none') return;
    if (this.config.runMigrationsAtStart) {
      const ran = await this.dataSource.runMigrations({ transaction: 'each' });
      if (ran.length) this.logger.log(`applied ${ran.length} migration(s): ${ran.map((m) => m.name).join(', ')}`);
      return;
    }
    if (await this.dataSource.showMigrations()) {
      throw new Error(
        'The database schema is behind this version of SaaSReady: run `npm run migration:run` (or set MIGRATIONS_RUN=true) and start again.',
      );
    }
  }

  async onModuleDestroy(): Promise<void> {
    // TypeOrmModule destroys the DataSource on shutdown; the embedded server goes after it (see main).
  }
}

/** TypeORM on PostgreSQL (DATABASE_URL) or on the embedded PGlite server; plus TransactionService. */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: async (config: AppConfig) => {
            const embedded = config.databaseMode === 'embedded' ? await EmbeddedPostgres.for(config.dataDir).start(4) : undefined;
            return postgresOptions(config, options.entities, options.migrations, embedded);
          },
        }),
      ],
      providers: [{ provide: DB_OPTIONS, useValue: options }, TransactionService, MigrationGate],
      exports: [TransactionService, TypeOrmModule],
    };
  }
}
