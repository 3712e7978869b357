import {
  BeforeApplicationShutdown,
  DynamicModule,
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
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

/**
 * Shutdown: waits until no query runner holds a connection (every transaction and query in flight has
 * ended) before TypeOrmModule destroys the DataSource, which Nest does in onApplicationShutdown, after
 * this hook. TypeORM's destroy hands every connection still held back to the pool, transaction open or
 * not, where a request still waiting for a connection could pick it up and run inside another request's
 * transaction. (main drains HTTP first, but a request whose client has hung up is not waited for there.)
 * Bounded by SHUTDOWN_TIMEOUT.
 */
@Injectable()
export class ConnectionDrain implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Database');
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** How many connections TypeORM's query runners hold now. */
  held(): number {
    return (this.dataSource.driver as { connectedQueryRunners?: unknown[] }).connectedQueryRunners?.length ?? 0;
  }

  async beforeApplicationShutdown(): Promise<void> {
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    while (this.held() > 0) {
      if (Date.now() >= deadline) {
        this.logger.warn(`shutdown: ${this.held()} database connection(s) still in use after SHUTDOWN_TIMEOUT; closing anyway`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
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
      providers: [{ provide: DB_OPTIONS, useValue: options }, TransactionService, MigrationGate, ConnectionDrain],
      exports: [TransactionService, ConnectionDrain, TypeOrmModule],
    };
  }
}
